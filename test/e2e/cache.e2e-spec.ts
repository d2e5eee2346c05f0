import { DataSource } from 'typeorm';
import { CacheService } from '../../src/cache/cache.service';
import { aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

describe('response cache (real PostgreSQL)', () => {
  let sut: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    sut = await bootApp();
    alice = await aUser(sut.app);
    bob = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const get = (user: TestUser, url: string, headers: Record<string, string> = {}) =>
    sut.app.inject({ method: 'GET', url, headers: { ...user.headers, ...headers } });

  it('answers MISS then HIT with the same body and an ETag; If-None-Match gives 304', async () => {
    const project = await createProject(sut.app, alice);

    const first = await get(alice, `/api/projects/${project.id}`);
    const second = await get(alice, `/api/projects/${project.id}`);

    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(second.headers.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const notModified = await get(alice, `/api/projects/${project.id}`, { 'if-none-match': String(second.headers.etag) });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
  });

  // A 304 has no body, so nothing may describe one: no Content-Type, no Content-Length (Fastify
  // leaves it out only when no payload at all is sent). The validators and cache headers stay.
  it.each([
    ['a warm entry, answered before Nest', async () => {}, 'HIT'],
    ['a cold entry, loaded by the interceptor', () => sut.app.get(CacheService).flush(), 'MISS'],
  ])('answers If-None-Match on %s with a bare 304', async (_label, prepare, state) => {
    const project = await createProject(sut.app, alice);
    const first = await get(alice, `/api/projects/${project.id}`);
    await prepare();

    const notModified = await get(alice, `/api/projects/${project.id}`, { 'if-none-match': String(first.headers.etag), 'x-request-id': 'etag-check' });

    expect(notModified.statusCode).toBe(304);
    expect(notModified.rawPayload).toHaveLength(0);
    expect(notModified.headers['content-type']).toBeUndefined();
    expect(notModified.headers['content-length']).toBeUndefined();
    expect(notModified.headers).toMatchObject({ etag: first.headers.etag, 'cache-control': 'private, no-cache', 'x-cache': state, 'x-request-id': 'etag-check' });
  });

  it('never serves one user’s cached answer to another', async () => {
    await createProject(sut.app, alice, { name: 'alice only' });
    await createProject(sut.app, bob, { name: 'bob only' });
    const project = await createProject(sut.app, alice);

    const aliceList = await get(alice, '/api/projects?limit=100');
    const bobList = await get(bob, '/api/projects?limit=100');
    await get(alice, `/api/projects/${project.id}`);
    const bobReadsAlices = await get(bob, `/api/projects/${project.id}`);

    expect(aliceList.json().items.map((p: { name: string }) => p.name)).toContain('alice only');
    expect(bobList.json().items.map((p: { name: string }) => p.name)).not.toContain('alice only');
    expect(bobList.json().items.map((p: { name: string }) => p.name)).toContain('bob only');
    expect(bobReadsAlices.statusCode).toBe(404);
  });

  it('returns the new data on the read right after a write (update, list, bulk status, delete)', async () => {
    const project = await createProject(sut.app, alice, { name: 'before' });
    expect((await get(alice, `/api/projects/${project.id}`)).json().name).toBe('before');
    expect((await get(alice, '/api/projects?limit=100')).json().items.some((p: { name: string }) => p.name === 'before')).toBe(true);

    await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: alice.headers, payload: { name: 'after' } });
    expect((await get(alice, `/api/projects/${project.id}`)).json().name).toBe('after');
    expect((await get(alice, '/api/projects?limit=100')).json().items.some((p: { name: string }) => p.name === 'after')).toBe(true);

    await sut.app.inject({ method: 'PATCH', url: '/api/projects/status', headers: alice.headers, payload: { ids: [project.id], status: 'archived' } });
    expect((await get(alice, `/api/projects/${project.id}`)).json().status).toBe('archived');

    const created = await createProject(sut.app, alice, { name: 'brand new' });
    expect((await get(alice, '/api/projects?limit=100')).json().items[0].id).toBe(created.id);

    await sut.app.inject({ method: 'DELETE', url: `/api/projects/${project.id}`, headers: alice.headers });
    expect((await get(alice, `/api/projects/${project.id}`)).statusCode).toBe(404);
  });

  it('returns new files and activities in include= views right after they are written', async () => {
    const project = await createProject(sut.app, alice);
    const url = `/api/projects/${project.id}?include=files,activities`;
    expect((await get(alice, url)).json().files).toEqual([]);

    await sut.app.get(DataSource).query(`INSERT INTO files (project_id, path, content, size_bytes) VALUES ($1, 'x.ts', '', 0)`, [project.id]);
    await sut.app.get(CacheService).invalidate([`files-of:${project.id}`]);

    expect((await get(alice, url)).json().files).toHaveLength(1);
  });

  it('invalidates reads of the same id written in another letter case', async () => {
    const project = await createProject(sut.app, alice, { name: 'lower' });
    const upper = `/api/projects/${project.id.toUpperCase()}`;
    expect((await get(alice, upper)).json().name).toBe('lower');

    await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: alice.headers, payload: { name: 'changed' } });

    expect((await get(alice, upper)).json().name).toBe('changed');
  });

  it('loads once for 100 concurrent misses on one key', async () => {
    const project = await createProject(sut.app, alice);
    await get(alice, '/api/auth/me'); // the token is cached: only the project load touches the pool
    const before = sut.acquisitions();

    const responses = await Promise.all(Array.from({ length: 100 }, () => get(alice, `/api/projects/${project.id}`)));

    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(sut.acquisitions() - before).toBe(1);
    expect(responses.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(100);
    expect((await get(alice, `/api/projects/${project.id}`)).headers['x-cache']).toBe('HIT');
  });

  it('does not cache errors', async () => {
    const missing = '00000000-0000-4000-8000-000000000001';
    await get(alice, `/api/projects/${missing}`);
    const before = sut.acquisitions();

    const again = await get(alice, `/api/projects/${missing}`);

    expect(again.statusCode).toBe(404);
    expect(again.headers['x-cache']).toBeUndefined();
    expect(sut.acquisitions() - before).toBe(1);
  });

  it('counts hits, misses and loads per cache', () => {
    const stats = sut.app.get(CacheService).stats();
    const http = stats.find((s) => s.cache === 'http')!;

    expect(http.hits).toBeGreaterThan(0);
    expect(http.misses).toBeGreaterThan(0);
    expect(http.loads).toBeGreaterThan(0);
    expect(stats.map((s) => s.cache)).toEqual(['http', 'tokens', 'ownership']);
  });
});

describe('response cache disabled', () => {
  it('serves every read from the database with CACHE_ENABLED=false', async () => {
    const sut = await bootApp({ CACHE_ENABLED: 'false' });
    try {
      const alice = await aUser(sut.app);
      const project = await createProject(sut.app, alice);
      await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: alice.headers });
      const before = sut.acquisitions();

      const res = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: alice.headers });

      expect(res.headers['x-cache']).toBeUndefined();
      expect(sut.acquisitions() - before).toBe(1);
    } finally {
      await sut.close();
    }
  });
});

describe('L1 bound', () => {
  it('evicts the least recently used entries past CACHE_L1_MAX_ENTRIES and counts evictions', async () => {
    const sut = await bootApp({ CACHE_L1_MAX_ENTRIES: '3' });
    try {
      const alice = await aUser(sut.app);
      const projects = await Promise.all(Array.from({ length: 5 }, () => createProject(sut.app, alice)));
      for (const p of projects) await sut.app.inject({ method: 'GET', url: `/api/projects/${p.id}`, headers: alice.headers });

      const http = sut.app.get(CacheService).stats().find((s) => s.cache === 'http')!;
      expect(http.size).toBeLessThanOrEqual(3);
      expect(http.evictions).toBeGreaterThanOrEqual(2);
      const oldest = await sut.app.inject({ method: 'GET', url: `/api/projects/${projects[0].id}`, headers: alice.headers });
      expect(oldest.headers['x-cache']).toBe('MISS');
    } finally {
      await sut.close();
    }
  });
});

describe('cache invalidation by files and activities writes', () => {
  it('returns the new file list, file and activity list on the read right after a write', async () => {
    const sut = await bootApp();
    try {
      const alice = await aUser(sut.app);
      const project = await createProject(sut.app, alice);
      const base = `/api/projects/${project.id}`;
      const get = (url: string) => sut.app.inject({ method: 'GET', url, headers: alice.headers });
      const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
        sut.app.inject({ method, url, headers: alice.headers, payload });

      expect((await get(`${base}/files`)).json().items).toEqual([]);
      expect((await get(`${base}/activities`)).json().items).toEqual([]);
      expect((await get(`${base}?include=files,activities`)).json()).toMatchObject({ files: [], activities: [] });

      const file = (await send('POST', `${base}/files`, { path: 'a.ts', content: 'one' })).json();
      await send('POST', `${base}/activities`, { agent: 'bot', action: 'wrote' });

      expect((await get(`${base}/files`)).json().items).toHaveLength(1);
      expect((await get(`${base}/activities`)).json().items).toHaveLength(1);
      expect((await get(`${base}?include=files,activities`)).json()).toMatchObject({ files: [{ path: 'a.ts' }], activities: [{ action: 'wrote' }] });

      expect((await get(`${base}/files/${file.id}`)).json().content).toBe('one');
      await send('PATCH', `${base}/files/${file.id}`, { content: 'two' });
      expect((await get(`${base}/files/${file.id}`)).json().content).toBe('two');

      await send('DELETE', `${base}/files/${file.id}`);
      expect((await get(`${base}/files/${file.id}`)).statusCode).toBe(404);
      expect((await get(`${base}/files`)).json().items).toEqual([]);
    } finally {
      await sut.close();
    }
  });
});
