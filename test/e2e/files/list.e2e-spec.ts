import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ERROR_SHAPE, TIMESTAMP } from '../../support/assertions';
import { aFile, aUser, capturePoolQueries, createProject, tableCounts, TestUser } from '../../support/factories';
import { bootApp, TestApp } from '../../support/test-app';
import { addFile, FileBody, fileRow, filesUrl, fileUrl } from './files.support';

/** The order PostgreSQL's C collation gives: UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

describe('files API (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    sut = await bootApp();
    db = sut.app.get(DataSource);
    alice = await aUser(sut.app);
    bob = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

  async function listAll(user: TestUser, projectId: string, query: string): Promise<{ paths: string[]; pages: number }> {
    const paths: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `${filesUrl(projectId)}?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await inject({ method: 'GET', url, headers: user.headers });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      paths.push(...page.items.map((f: FileBody) => f.path));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    return { paths, pages };
  }

  describe('GET /api/projects/:id/files', () => {
    it('lists metadata without content, in byte order of the path', async () => {
      const project = await createProject(sut.app, alice);
      const paths = ['b.txt', 'B.txt', 'a/z.txt', 'a.txt', '_x', 'Z', 'é.txt', 'e.txt', '📄.md', '\uffef.txt'];
      for (const path of paths) await addFile(sut.app, alice, project.id, { path });

      const res = await inject({ method: 'GET', url: filesUrl(project.id), headers: alice.headers });

      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.nextCursor).toBeNull();
      expect(body.items.map((f: FileBody) => f.path)).toEqual([...paths].sort(byteOrder));
      expect(body.items[0]).toEqual({
        id: expect.any(String),
        path: 'B.txt',
        sizeBytes: 26,
        language: 'typescript',
        createdAt: TIMESTAMP,
        updatedAt: TIMESTAMP,
      });
    });

    it('pages through 60 files with limit 7: every file exactly once, in path order', async () => {
      const project = await createProject(sut.app, alice);
      const paths = Array.from({ length: 60 }, (_, i) => `dir${i % 3}/file-${String(i).padStart(2, '0')}.txt`);
      for (const path of paths) await addFile(sut.app, alice, project.id, { path });

      const { paths: listed, pages } = await listAll(alice, project.id, 'limit=7');

      expect(pages).toBe(9);
      expect(listed).toEqual([...paths].sort(byteOrder));
    });

    it('pages 20 at a time by default', async () => {
      const project = await createProject(sut.app, alice);
      for (let i = 0; i < 21; i++) await addFile(sut.app, alice, project.id, { path: `f${String(i).padStart(2, '0')}` });

      const res = await inject({ method: 'GET', url: filesUrl(project.id), headers: alice.headers });

      expect(res.json().items).toHaveLength(20);
      expect(res.json().nextCursor).toEqual(expect.any(String));
    });

    it('filters by a literal prefix: % _ and \\ are not wildcards', async () => {
      const project = await createProject(sut.app, alice);
      const paths = ['src/a.ts', 'src/b/c.ts', 'srcx.ts', 'docs/src/a.md', '50%_off/a', '50%_offer', '50%Xoff/b', '50X_off', 'a_b', 'aXb', 'w\\in', 'wXin'];
      for (const path of paths) await addFile(sut.app, alice, project.id, { path });
      const list = async (prefix: string) => (await listAll(alice, project.id, `limit=1&prefix=${encodeURIComponent(prefix)}`)).paths;

      expect(await list('src/')).toEqual(['src/a.ts', 'src/b/c.ts']);
      expect(await list('src')).toEqual(['src/a.ts', 'src/b/c.ts', 'srcx.ts']);
      expect(await list('50%_')).toEqual(['50%_off/a', '50%_offer']);
      expect(await list('50%')).toEqual(['50%Xoff/b', '50%_off/a', '50%_offer']);
      expect(await list('a_')).toEqual(['a_b']);
      expect(await list('w\\')).toEqual(['w\\in']);
      expect(await list('nothing')).toEqual([]);
      expect(await list('')).toEqual([...paths].sort(byteOrder));
    });

    it('serves the prefix filter, the keyset and the order from the (project_id, path COLLATE "C") index', async () => {
      const project = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id, { path: 'src/a.ts' });
      await addFile(sut.app, alice, project.id, { path: 'src/b.ts' });
      const url = `${filesUrl(project.id)}?prefix=src%2F&limit=1`;
      const { nextCursor } = (await inject({ method: 'GET', url, headers: alice.headers })).json();
      const calls = await capturePoolQueries(sut.app, () =>
        inject({ method: 'GET', url: `${url}&cursor=${encodeURIComponent(nextCursor)}`, headers: alice.headers }),
      );
      const call = calls.find(([sql]) => sql.includes('starts_with'));
      const [sql, params] = call as [string, unknown[]];

      const plan = await db.transaction(async (tx) => {
        // With a handful of rows a sequential scan is cheaper; the question is whether the index can serve it.
        await tx.query('SET LOCAL enable_seqscan = off');
        const rows: { 'QUERY PLAN': string }[] = await tx.query(`EXPLAIN ${sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });

      expect(plan).toMatch(/Index Scan using files_project_id_path_key on files f/);
      // starts_with() on the C collation becomes a range: the scan reads only the matching paths after the cursor.
      expect(plan).toMatch(/Index Cond: .*project_id = .*\(path\)::text >= 'src\/'.*\(path\)::text < 'src0'.*\(path\)::text > 'src\/a\.ts'/);
      expect(plan).not.toMatch(/Sort/);
    });

    it('answers 400 for a tampered cursor', async () => {
      const project = await createProject(sut.app, alice);
      for (let i = 0; i < 3; i++) await addFile(sut.app, alice, project.id);
      const { nextCursor } = (await inject({ method: 'GET', url: `${filesUrl(project.id)}?limit=1`, headers: alice.headers })).json();
      const [body, signature] = nextCursor.split('.');
      const forged = `${Buffer.from(JSON.stringify(['', randomUUID()])).toString('base64url')}.${signature}`;

      for (const cursor of [forged, `${body}.${signature.slice(1)}x`, 'garbage', `${body}.`]) {
        const res = await inject({ method: 'GET', url: `${filesUrl(project.id)}?cursor=${encodeURIComponent(cursor)}`, headers: alice.headers });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^cursor: /) });
      }
    });

    it('answers 400 for a cursor of another project, or of the same project with another prefix', async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      for (let i = 0; i < 3; i++) {
        await addFile(sut.app, alice, project.id, { path: `src/${i}` });
        await addFile(sut.app, alice, other.id, { path: `src/${i}` });
      }
      const { nextCursor } = (await inject({ method: 'GET', url: `${filesUrl(project.id)}?limit=1`, headers: alice.headers })).json();

      const otherProject = await inject({ method: 'GET', url: `${filesUrl(other.id)}?limit=1&cursor=${encodeURIComponent(nextCursor)}`, headers: alice.headers });
      const otherPrefix = await inject({ method: 'GET', url: `${filesUrl(project.id)}?limit=1&prefix=src&cursor=${encodeURIComponent(nextCursor)}`, headers: alice.headers });
      const sameList = await inject({ method: 'GET', url: `${filesUrl(project.id)}?limit=1&cursor=${encodeURIComponent(nextCursor)}`, headers: alice.headers });

      expect(otherProject.statusCode).toBe(400);
      expect(otherPrefix.statusCode).toBe(400);
      expect(sameList.statusCode).toBe(200);
      expect(sameList.json().items[0].path).toBe('src/1');
    });

    it.each([
      ['limit 0', 'limit=0', /^limit: must be an integer from 1 to 100$/],
      ['limit 101', 'limit=101', /^limit: must be an integer from 1 to 100$/],
      ['a limit that is not a number', 'limit=ten', /^limit: must be an integer from 1 to 100$/],
      ['a prefix of 1025 characters', `prefix=${'x'.repeat(1025)}`, /^prefix: must be a string of at most 1024 characters$/],
      ['a prefix with NUL', 'prefix=a%00b', /^prefix: contains a NUL character$/],
      ['an unknown parameter', 'sort=path', /^sort: is not allowed$/],
    ])('answers 400 for %s', async (_label, query, message) => {
      const project = await createProject(sut.app, alice);

      const res = await inject({ method: 'GET', url: `${filesUrl(project.id)}?${query}`, headers: alice.headers });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
    });

    it('answers an empty page for a project without files, and 404 for a missing project', async () => {
      const project = await createProject(sut.app, alice);

      const empty = await inject({ method: 'GET', url: filesUrl(project.id), headers: alice.headers });
      const missing = await inject({ method: 'GET', url: filesUrl(randomUUID()), headers: alice.headers });

      expect(empty.statusCode).toBe(200);
      expect(empty.json()).toEqual({ items: [], nextCursor: null });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().message).toBe('Project not found');
    });
  });

  describe("another user's project", () => {
    it('answers 404 on every route, exactly like a missing one, and changes nothing', async () => {
      const project = await createProject(sut.app, alice);
      const file = await addFile(sut.app, alice, project.id, { path: 'secret.txt', content: 'alice only' });
      const before = await tableCounts(sut.app);
      const row = await fileRow(db, file.id);
      const routes = (projectId: string, fileId: string) => ({
        create: { method: 'POST' as const, url: filesUrl(projectId), payload: aFile({ path: 'secret.txt' }) },
        list: { method: 'GET' as const, url: filesUrl(projectId) },
        get: { method: 'GET' as const, url: fileUrl(projectId, fileId) },
        update: { method: 'PATCH' as const, url: fileUrl(projectId, fileId), payload: { content: 'bob was here' } },
        remove: { method: 'DELETE' as const, url: fileUrl(projectId, fileId) },
      });
      const missing = routes(randomUUID(), randomUUID());
      const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });

      for (const [name, route] of Object.entries(routes(project.id, file.id))) {
        const bobs = await inject({ ...route, headers: bob.headers });
        const nobodys = await inject({ ...missing[name as keyof typeof missing], headers: bob.headers });

        expect([name, bobs.statusCode, withoutRequestId(bobs.json())]).toEqual([name, 404, withoutRequestId(nobodys.json())]);
      }
      expect(await tableCounts(sut.app)).toEqual(before);
      expect(await fileRow(db, file.id)).toEqual(row);
    });

    it("answers 404, not a page, for a cursor of alice's list used by bob", async () => {
      const project = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id);
      await addFile(sut.app, alice, project.id);
      const { nextCursor } = (await inject({ method: 'GET', url: `${filesUrl(project.id)}?limit=1`, headers: alice.headers })).json();

      const res = await inject({ method: 'GET', url: `${filesUrl(project.id)}?cursor=${encodeURIComponent(nextCursor)}`, headers: bob.headers });

      expect(res.statusCode).toBe(404);
      expect(res.json().message).toBe('Project not found');
    });

    it("answers 404 for alice's file id through bob's own project", async () => {
      const project = await createProject(sut.app, alice);
      const file = await addFile(sut.app, alice, project.id);
      const bobs = await createProject(sut.app, bob);

      const get = await inject({ method: 'GET', url: fileUrl(bobs.id, file.id), headers: bob.headers });
      const del = await inject({ method: 'DELETE', url: fileUrl(bobs.id, file.id), headers: bob.headers });

      expect(get.statusCode).toBe(404);
      expect(del.statusCode).toBe(404);
      expect(await fileRow(db, file.id)).toBeDefined();
    });
  });
});
