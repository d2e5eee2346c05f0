import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TIMESTAMP } from '../support/assertions';
import { aProject, aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

describe('projects API (real PostgreSQL)', () => {
  let sut: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let db: DataSource;

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

  describe('create, read, update, delete', () => {
    it('creates a project and stores it for its owner', async () => {
      const res = await inject({ method: 'POST', url: '/api/projects', headers: alice.headers, payload: aProject({ name: 'Alpha', status: 'draft' }) });

      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toEqual({
        id: expect.any(String),
        name: 'Alpha',
        description: 'made by a test',
        status: 'draft',
        createdAt: TIMESTAMP,
        updatedAt: expect.any(String),
      });
      const rows = await db.query('SELECT user_id, name, status FROM projects WHERE id = $1', [body.id]);
      expect(rows).toEqual([{ user_id: alice.id, name: 'Alpha', status: 'draft' }]);
    });

    it('defaults the status to active', async () => {
      const project = await createProject(sut.app, alice, { status: undefined });

      expect(project.status).toBe('active');
    });

    it('reads a project; another user gets 404 as if it did not exist', async () => {
      const project = await createProject(sut.app, alice);

      const own = await inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: alice.headers });
      const foreign = await inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: bob.headers });
      const missing = await inject({ method: 'GET', url: `/api/projects/${randomUUID()}`, headers: bob.headers });

      expect(own.statusCode).toBe(200);
      expect(own.json()).toMatchObject({ id: project.id, name: project.name });
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().message).toBe(missing.json().message);
    });

    it('rejects a malformed id with 400 naming the field', async () => {
      const res = await inject({ method: 'GET', url: '/api/projects/not-a-uuid', headers: alice.headers });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/^id/);
    });

    it('updates fields, clears the description with null and bumps updated_at', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({
        method: 'PATCH',
        url: `/api/projects/${project.id}`,
        headers: alice.headers,
        payload: { name: 'Renamed', description: null, status: 'completed' },
      });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: 'Renamed', description: null, status: 'completed' });
      expect(res.json().updatedAt > project.createdAt).toBe(true);
      const [row] = await db.query('SELECT name, description, status FROM projects WHERE id = $1', [project.id]);
      expect(row).toEqual({ name: 'Renamed', description: null, status: 'completed' });
    });

    it('refuses an empty update, and another user’s update, changing nothing', async () => {
      const project = await createProject(sut.app, alice);

      const empty = await inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: alice.headers, payload: {} });
      const foreign = await inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: bob.headers, payload: { name: 'mine now' } });

      expect(empty.statusCode).toBe(400);
      expect(foreign.statusCode).toBe(404);
      const [row] = await db.query('SELECT name FROM projects WHERE id = $1', [project.id]);
      expect(row.name).toBe(project.name);
    });

    it('deletes a project with its files and activities', async () => {
      const project = await createProject(sut.app, alice);
      await db.query(`INSERT INTO files (project_id, path, content, size_bytes) VALUES ($1, 'a.txt', 'x', 1)`, [project.id]);
      await db.query(`INSERT INTO agent_activities (project_id, agent, action) VALUES ($1, 'bot', 'ran')`, [project.id]);

      const foreign = await inject({ method: 'DELETE', url: `/api/projects/${project.id}`, headers: bob.headers });
      expect(foreign.statusCode).toBe(404);

      const res = await inject({ method: 'DELETE', url: `/api/projects/${project.id}`, headers: alice.headers });
      expect(res.statusCode).toBe(204);
      const [counts] = await db.query(
        `SELECT (SELECT count(*) FROM projects WHERE id = $1)::int AS p, (SELECT count(*) FROM files WHERE project_id = $1)::int AS f,
                (SELECT count(*) FROM agent_activities WHERE project_id = $1)::int AS a`,
        [project.id],
      );
      expect(counts).toEqual({ p: 0, f: 0, a: 0 });
      expect((await inject({ method: 'DELETE', url: `/api/projects/${project.id}`, headers: alice.headers })).statusCode).toBe(404);
    });
  });

  describe('include=files,activities', () => {
    it('adds the file list (no content) and the latest activities in one query, whatever the counts', async () => {
      const project = await createProject(sut.app, alice);
      await db.query(
        `INSERT INTO files (project_id, path, content, size_bytes, language)
         SELECT $1, 'src/f' || lpad(i::text, 3, '0') || '.ts', 'body', 4, 'typescript' FROM generate_series(1, 120) i`,
        [project.id],
      );
      await db.query(
        `INSERT INTO agent_activities (project_id, agent, action, payload, created_at)
         SELECT $1, 'bot', 'step-' || i, jsonb_build_object('i', i), now() - (i || ' ms')::interval FROM generate_series(1, 50) i`,
        [project.id],
      );
      await inject({ method: 'GET', url: '/api/auth/me', headers: alice.headers });
      const before = sut.acquisitions();

      const res = await inject({ method: 'GET', url: `/api/projects/${project.id}?include=files,activities`, headers: alice.headers });

      expect(sut.acquisitions() - before).toBe(1);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.files).toHaveLength(100);
      expect(body.files[0]).toEqual({ id: expect.any(String), path: 'src/f001.ts', sizeBytes: 4, language: 'typescript', updatedAt: expect.any(String) });
      expect(body.activities).toHaveLength(20);
      expect(body.activities[0]).toMatchObject({ id: expect.stringMatching(/^\d+$/), agent: 'bot', action: 'step-1', payload: { i: 1 } });
      expect(body.activities[19].action).toBe('step-20');
    });

    it('includes only what is asked, and rejects unknown includes', async () => {
      const project = await createProject(sut.app, alice);

      const files = (await inject({ method: 'GET', url: `/api/projects/${project.id}?include=files`, headers: alice.headers })).json();
      const bad = await inject({ method: 'GET', url: `/api/projects/${project.id}?include=files,secrets`, headers: alice.headers });
      const foreign = await inject({ method: 'GET', url: `/api/projects/${project.id}?include=files`, headers: bob.headers });

      expect(files.files).toEqual([]);
      expect(files).not.toHaveProperty('activities');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/include/);
      expect(foreign.statusCode).toBe(404);
    });
  });

  describe('list (keyset pagination)', () => {
    let carol: TestUser;

    beforeAll(async () => {
      carol = await aUser(sut.app);
      // 240 projects, some sharing a timestamp so the id tie-break is exercised.
      await db.query(
        `INSERT INTO projects (user_id, name, status, created_at)
         SELECT $1, 'p' || i, CASE WHEN i % 3 = 0 THEN 'archived' ELSE 'active' END,
                now() - interval '1 hour' - ((i / 4) || ' ms')::interval
           FROM generate_series(1, 240) i`,
        [carol.id],
      );
    });

    async function page(user: TestUser, query: string) {
      const res = await inject({ method: 'GET', url: `/api/projects?${query}`, headers: user.headers });
      expect(res.statusCode).toBe(200);
      return res.json() as { items: { id: string; createdAt: string; status: string }[]; nextCursor: string | null };
    }

    it('pages through every project exactly once, newest first, while new ones are inserted', async () => {
      const existing: { id: string }[] = await db.query('SELECT id FROM projects WHERE user_id = $1', [carol.id]);
      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        const p = await page(carol, `limit=17${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        seen.push(...p.items.map((i) => i.id));
        cursor = p.nextCursor;
        await createProject(sut.app, carol);
        inserted++;
      } while (cursor);

      expect(new Set(seen).size).toBe(seen.length);
      const seenSet = new Set(seen);
      expect(existing.filter((r) => !seenSet.has(r.id))).toEqual([]);
      expect(inserted).toBeGreaterThan(10);
    });

    it('orders by (created_at desc, id desc)', async () => {
      const items = (await page(carol, 'limit=100')).items;
      const sorted = [...items].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));

      expect(items.map((i) => i.id)).toEqual(sorted.map((i) => i.id));
    });

    it('filters by status, and defaults to 20 per page', async () => {
      const p = await page(carol, 'status=archived');

      expect(p.items).toHaveLength(20);
      expect(p.items.every((i) => i.status === 'archived')).toBe(true);
    });

    it('never shows another user’s projects', async () => {
      const p = await page(bob, 'limit=100');
      const carolIds: { id: string }[] = await db.query('SELECT id FROM projects WHERE user_id = $1', [carol.id]);
      const carolSet = new Set(carolIds.map((r) => r.id));

      expect(p.items.some((i) => carolSet.has(i.id))).toBe(false);
    });

    it.each([
      ['limit=0', /limit/],
      ['limit=101', /limit/],
      ['limit=abc', /limit/],
      ['status=deleted', /status/],
      ['cursor=garbage', /cursor/],
      ['unknown=1', /unknown/],
    ])('rejects %s with 400', async (query, message) => {
      const res = await inject({ method: 'GET', url: `/api/projects?${query}`, headers: carol.headers });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
    });

    it('rejects a tampered cursor, and one from another list', async () => {
      const { nextCursor } = await page(carol, 'limit=5');
      const [body, sig] = nextCursor!.split('.');
      const forged = Buffer.from(JSON.stringify(['2000-01-01T00:00:00.000000Z', randomUUID()])).toString('base64url');

      const tampered = await inject({ method: 'GET', url: `/api/projects?cursor=${forged}.${sig}`, headers: carol.headers });
      const otherFilter = await inject({ method: 'GET', url: `/api/projects?status=archived&cursor=${body}.${sig}`, headers: carol.headers });
      const otherUser = await inject({ method: 'GET', url: `/api/projects?cursor=${nextCursor}`, headers: bob.headers });

      expect([tampered.statusCode, otherFilter.statusCode, otherUser.statusCode]).toEqual([400, 400, 400]);
    });
  });

  describe('batch routes', () => {
    it('batch-get returns only the caller’s projects among the ids, in one query', async () => {
      const mine = await Promise.all([createProject(sut.app, alice), createProject(sut.app, alice)]);
      const theirs = await createProject(sut.app, bob);
      const before = sut.acquisitions();

      const res = await inject({
        method: 'POST',
        url: '/api/projects/batch-get',
        headers: alice.headers,
        payload: { ids: [mine[0].id, theirs.id, randomUUID(), mine[1].id, mine[0].id] },
      });

      expect(res.statusCode).toBe(200);
      expect(sut.acquisitions() - before).toBe(1);
      expect(res.json().items.map((p: { id: string }) => p.id).sort()).toEqual([mine[0].id, mine[1].id].sort());
    });

    it('batch-get bounds the ids to 100 and checks each is a UUID', async () => {
      const tooMany = await inject({ method: 'POST', url: '/api/projects/batch-get', headers: alice.headers, payload: { ids: Array.from({ length: 101 }, () => randomUUID()) } });
      const notUuid = await inject({ method: 'POST', url: '/api/projects/batch-get', headers: alice.headers, payload: { ids: ['1'] } });
      const empty = await inject({ method: 'POST', url: '/api/projects/batch-get', headers: alice.headers, payload: { ids: [] } });

      expect([tooMany.statusCode, notUuid.statusCode, empty.statusCode]).toEqual([400, 400, 400]);
      expect(tooMany.json().message).toMatch(/ids/);
    });

    it('bulk status update changes only the caller’s projects, in one statement', async () => {
      const mine = await Promise.all([createProject(sut.app, alice), createProject(sut.app, alice)]);
      const theirs = await createProject(sut.app, bob);
      const before = sut.acquisitions();

      const res = await inject({
        method: 'PATCH',
        url: '/api/projects/status',
        headers: alice.headers,
        payload: { ids: [mine[0].id, mine[1].id, theirs.id, randomUUID()], status: 'archived' },
      });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ updated: 2 });
      expect(sut.acquisitions() - before).toBe(1);
      const rows: { id: string; status: string }[] = await db.query('SELECT id, status FROM projects WHERE id = ANY($1::uuid[])', [
        [mine[0].id, mine[1].id, theirs.id],
      ]);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({ [mine[0].id]: 'archived', [mine[1].id]: 'archived', [theirs.id]: 'active' });
    });

    it('bulk status update bounds the ids to 1000 and validates the status', async () => {
      const tooMany = await inject({ method: 'PATCH', url: '/api/projects/status', headers: alice.headers, payload: { ids: Array.from({ length: 1001 }, () => randomUUID()), status: 'active' } });
      const badStatus = await inject({ method: 'PATCH', url: '/api/projects/status', headers: alice.headers, payload: { ids: [randomUUID()], status: 'gone' } });

      expect([tooMany.statusCode, badStatus.statusCode]).toEqual([400, 400]);
    });
  });
});
