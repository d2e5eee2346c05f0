import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CacheService } from '../../../src/cache/cache.service';
import { aUser, createProject } from '../../support/factories';
import { bootApp } from '../../support/test-app';
import { addFile } from '../files/files.support';

const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Memory this process holds after a full collection: retained data, not garbage awaiting GC. */
function retained(): { rss: number; heap: number } {
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

/**
 * The same UUID in another letter case: PostgreSQL reads it as the same id, but the URL (and so
 * the cache key) differs. A hostile client gets thousands of cache entries out of one file this way.
 */
function caseVariant(uuid: string, n: number): string {
  let bit = 0;
  return uuid.replace(/[a-f]/g, (c) => ((n >> bit++) & 1 ? c.toUpperCase() : c));
}

/** Every variant of every file's URL: distinct cache keys for the same few large answers. */
function variants(projectId: string, fileIds: string[], perFile: number): string[] {
  return fileIds.flatMap((fileId) =>
    Array.from({ length: perFile }, (_, n) => {
      const ids = caseVariant(projectId + fileId, n);
      return `/api/projects/${ids.slice(0, 36)}/files/${ids.slice(36)}`;
    }),
  );
}

describe('cache memory against hostile clients (real PostgreSQL)', () => {
  it('keeps L1 within CACHE_L1_MAX_BYTES while distinct large answers are read many times', async () => {
    const sut = await bootApp({ CACHE_L1_MAX_BYTES: String(8 * MiB) });
    try {
      const user = await aUser(sut.app);
      const admin = await aUser(sut.app, { role: 'admin' });
      const project = await createProject(sut.app, user);
      // About 200 kB each by the estimate (2 bytes a character): under the 512 KiB per-entry cap
      // that an 8 MiB budget implies, and 60 of them are twice the 6 MiB the answers get of it.
      const files: string[] = [];
      for (let i = 0; i < 60; i++) files.push((await addFile(sut.app, user, project.id, { content: String(i % 10).repeat(100_000) })).id);
      const urls = files.map((file) => `/api/projects/${project.id}/files/${file}`);
      const before = retained();

      const states: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (const url of urls) {
          const first = await sut.app.inject({ method: 'GET', url, headers: user.headers });
          const again = await sut.app.inject({ method: 'GET', url, headers: user.headers });
          expect(first.statusCode).toBe(200);
          expect(again.body).toBe(first.body);
          states.push(String(again.headers['x-cache']));
        }
      }
      const after = retained();
      const debug = (await sut.app.inject({ method: 'GET', url: '/debug/cache', headers: admin.headers })).json();
      const http = debug.caches.find((c: { cache: string }) => c.cache === 'http');

      // Read straight after being stored, an answer is a hit: it was cached, and then evicted.
      expect(states.every((s) => s === 'HIT')).toBe(true);
      expect(http.evictions).toBeGreaterThan(100);
      expect(debug.l1.max_bytes).toBe(8 * MiB);
      expect(debug.l1.bytes).toBeLessThanOrEqual(debug.l1.max_bytes);
      expect(http.bytes).toBeLessThanOrEqual(http.max_bytes);
      expect(http.bytes).toBeGreaterThan(http.max_bytes / 2);
      expect(after.rss - before.rss).toBeLessThan(300 * MiB);
      console.info(
        `[figures] byte budget: ${urls.length * 6} reads of 60 x 100 kB files, L1 ${(debug.l1.bytes / MiB).toFixed(1)} of ${debug.l1.max_bytes / MiB} MiB, ` +
          `http evictions ${http.evictions}, RSS ${((after.rss - before.rss) / MiB).toFixed(1)} MiB, heap ${((after.heap - before.heap) / MiB).toFixed(1)} MiB after GC`,
      );
    } finally {
      await sut.close();
    }
  }, 120_000);

  it('keeps one entry for a file whose ids are sent in other letter cases', async () => {
    const sut = await bootApp();
    try {
      const user = await aUser(sut.app);
      const project = await createProject(sut.app, user);
      const file = (await addFile(sut.app, user, project.id, { content: 'x'.repeat(1000) })).id;
      const [lower, ...others] = variants(project.id, [file], 8);

      const first = await sut.app.inject({ method: 'GET', url: lower, headers: user.headers });
      const rest = await Promise.all(others.map((url) => sut.app.inject({ method: 'GET', url, headers: user.headers })));

      expect(first.headers['x-cache']).toBe('MISS');
      expect(rest.map((r) => r.headers['x-cache'])).toEqual(others.map(() => 'HIT'));
      expect(sut.app.get(CacheService).stats().find((s) => s.cache === 'http')!.size).toBe(1);
    } finally {
      await sut.close();
    }
  });

  it('serves answers over the per-entry cap correctly and caches none of them, whatever the number of variants', async () => {
    const sut = await bootApp();
    try {
      const user = await aUser(sut.app);
      const project = await createProject(sut.app, user);
      // 1 MiB of control characters: about 6 MB as JSON, 12 MB by the estimate, over the 4 MiB cap.
      const content = '\u0001'.repeat(MiB);
      const files = [(await addFile(sut.app, user, project.id, { content })).id, (await addFile(sut.app, user, project.id, { content })).id];
      const urls = variants(project.id, files, 40);
      const cache = sut.app.get(CacheService);
      const before = retained();

      let etag = '';
      for (const url of urls) {
        for (let i = 0; i < 2; i++) {
          const res = await sut.app.inject({ method: 'GET', url, headers: user.headers });
          expect(res.statusCode).toBe(200);
          expect(res.headers['x-cache']).toBe('MISS');
          expect(res.body.length).toBeGreaterThan(6 * MiB);
          etag = String(res.headers.etag);
        }
      }
      const after = retained();
      const notModified = await sut.app.inject({ method: 'GET', url: urls[urls.length - 1], headers: { ...user.headers, 'if-none-match': etag } });
      const sample = await sut.app.inject({ method: 'GET', url: urls[0], headers: user.headers });
      const http = cache.stats().find((s) => s.cache === 'http')!;

      expect(notModified.statusCode).toBe(304);
      expect(notModified.body).toBe('');
      expect(sample.json().content).toBe(content);
      expect(http.oversize_skipped).toBeGreaterThanOrEqual(urls.length * 2);
      expect(http.bytes).toBeLessThan(MiB);
      // Cached, these 80 variants would hold about 480 MB.
      expect(after.rss - before.rss).toBeLessThan(300 * MiB);
      console.info(
        `[figures] oversize: ${urls.length * 2} reads of 6 MB answers, http L1 ${(http.bytes / 1024).toFixed(0)} kB, oversize skipped ${http.oversize_skipped}, ` +
          `RSS ${((after.rss - before.rss) / MiB).toFixed(1)} MiB, heap ${((after.heap - before.heap) / MiB).toFixed(1)} MiB after GC`,
      );
    } finally {
      await sut.close();
    }
  }, 180_000);

  it('leaves no tag versions behind for ids a bulk status write did not change', async () => {
    const sut = await bootApp();
    try {
      const owner = await aUser(sut.app);
      const attacker = await aUser(sut.app);
      const admin = await aUser(sut.app, { role: 'admin' });
      const mine = await createProject(sut.app, attacker);
      const others = await Promise.all(Array.from({ length: 3 }, () => createProject(sut.app, owner)));
      const tagVersions = async () => (await sut.app.inject({ method: 'GET', url: '/debug/cache', headers: admin.headers })).json().tag_versions;
      const before = await tagVersions();

      for (let i = 0; i < 5; i++) {
        const ids = [...others.map((p) => p.id), ...Array.from({ length: 997 }, () => randomUUID())];
        const res = await sut.app.inject({ method: 'PATCH', url: '/api/projects/status', headers: attacker.headers, payload: { ids, status: 'archived' } });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ updated: 0 });
      }
      const afterAttack = await tagVersions();
      const own = await sut.app.inject({
        method: 'PATCH',
        url: '/api/projects/status',
        headers: attacker.headers,
        payload: { ids: [mine.id, ...others.map((p) => p.id)], status: 'archived' },
      });

      expect(afterAttack.tags).toBe(before.tags);
      expect(own.json()).toEqual({ updated: 1 });
      // The attacker's own project (the tag of their list was there since they created it).
      expect((await tagVersions()).tags).toBe(before.tags + 1);
      for (const p of others) {
        const read = await sut.app.inject({ method: 'GET', url: `/api/projects/${p.id}`, headers: owner.headers });
        expect(read.json().status).toBe('active');
      }
    } finally {
      await sut.close();
    }
  });
});
