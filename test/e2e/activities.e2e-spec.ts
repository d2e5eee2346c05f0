import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ActivityWriter } from '../../src/activities/activity-writer';
import { ERROR_SHAPE, TIMESTAMP } from '../support/assertions';
import { anActivity, aUser, capturePoolQueries, createProject, tableCounts, TestUser } from '../support/factories';
import { dropTestDatabase } from '../support/test-database';
import { bootApp, TestApp } from '../support/test-app';

const KIB_64 = 64 * 1024;
// Rate limits would turn the bursts below into 429s; they are tested on their own.
const ENV = { RATE_LIMIT_ENABLED: 'false' };

interface ActivityBody {
  id: string;
  projectId: string;
  agent: string;
  action: string;
  payload: unknown;
  createdAt: string;
}

const activitiesUrl = (projectId: string) => `/api/projects/${projectId}/activities`;
const batchUrl = (projectId: string) => `/api/projects/${projectId}/activities/batch`;

/** Keyset order: createdAt, then the bigint id. */
function compareRows(a: ActivityBody, b: ActivityBody): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  const diff = BigInt(a.id) - BigInt(b.id);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('activities API (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let writer: ActivityWriter;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    sut = await bootApp(ENV);
    db = sut.app.get(DataSource);
    writer = sut.app.get(ActivityWriter);
    alice = await aUser(sut.app);
    bob = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

  async function record(user: TestUser, projectId: string, overrides: Record<string, unknown> = {}): Promise<ActivityBody> {
    const res = await inject({ method: 'POST', url: activitiesUrl(projectId), headers: user.headers, payload: anActivity(overrides) });
    if (res.statusCode !== 201) throw new Error(`activity not recorded: ${res.statusCode} ${res.body}`);
    return res.json();
  }

  async function recordMany(user: TestUser, projectId: string, items: Record<string, unknown>[]): Promise<ActivityBody[]> {
    const res = await inject({ method: 'POST', url: batchUrl(projectId), headers: user.headers, payload: { items } });
    if (res.statusCode !== 201) throw new Error(`activities not recorded: ${res.statusCode} ${res.body}`);
    return res.json().items;
  }

  async function listPage(user: TestUser, projectId: string, query: Record<string, string | number>) {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return inject({ method: 'GET', url: `${activitiesUrl(projectId)}?${qs}`, headers: user.headers });
  }

  /** Every page of the list, following nextCursor; `beforeEach` runs before each page is fetched. */
  async function listAll(user: TestUser, projectId: string, query: Record<string, string | number>, beforeEach?: () => void) {
    const items: ActivityBody[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      beforeEach?.();
      const res = await listPage(user, projectId, cursor === null ? query : { ...query, cursor });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      items.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    return { items, pages };
  }

  async function storedRow(id: string) {
    const rows = await db.query(`SELECT project_id, agent, action, payload, created_at FROM agent_activities WHERE id = $1`, [id]);
    return rows[0];
  }

  describe('POST /api/projects/:id/activities', () => {
    it('stores the activity and answers the committed row', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({
        method: 'POST',
        url: activitiesUrl(project.id),
        headers: alice.headers,
        payload: { agent: 'coder', action: 'file.edited', payload: { path: 'src/a.ts', lines: [1, 2] } },
      });

      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toEqual({
        id: expect.stringMatching(/^\d+$/),
        projectId: project.id,
        agent: 'coder',
        action: 'file.edited',
        payload: { path: 'src/a.ts', lines: [1, 2] },
        createdAt: TIMESTAMP,
      });
      expect(await storedRow(body.id)).toEqual({
        project_id: project.id,
        agent: 'coder',
        action: 'file.edited',
        payload: { path: 'src/a.ts', lines: [1, 2] },
        created_at: expect.any(Date),
      });
    });

    it.each([
      ['an object', { nested: { deep: [1, 'two', null, true] } }],
      ['an array', [1, { a: 'b' }, [2]]],
      ['a string', 'just text, with "quotes" and \\ backslashes'],
      ['a number', 3.5],
      ['a boolean', false],
      ['null', null],
    ])('accepts %s as payload and gives it back as stored', async (_kind, payload) => {
      const project = await createProject(sut.app, alice);

      const body = await record(alice, project.id, { payload });

      expect(body.payload).toEqual(payload);
      expect((await storedRow(body.id)).payload).toEqual(payload);
    });

    it('stores an absent payload as SQL NULL', async () => {
      const project = await createProject(sut.app, alice);

      const body = await record(alice, project.id, { payload: undefined });

      expect(body.payload).toBeNull();
      const [row] = await db.query(`SELECT payload IS NULL AS missing FROM agent_activities WHERE id = $1`, [body.id]);
      expect(row.missing).toBe(true);
    });

    it('accepts a payload of exactly 64 KiB of UTF-8 JSON and answers 413 one character above it, counting bytes', async () => {
      const project = await createProject(sut.app, alice);
      // JSON adds two quotes; "é" is two bytes in UTF-8 but one UTF-16 unit.
      const atLimit = 'é'.repeat((KIB_64 - 2) / 2);
      const aboveLimit = `${atLimit}é`;

      const ok = await inject({ method: 'POST', url: activitiesUrl(project.id), headers: alice.headers, payload: anActivity({ payload: atLimit }) });
      const before = await tableCounts(sut.app);
      const tooBig = await inject({ method: 'POST', url: activitiesUrl(project.id), headers: alice.headers, payload: anActivity({ payload: aboveLimit }) });

      expect(ok.statusCode).toBe(201);
      expect(tooBig.statusCode).toBe(413);
      expect(tooBig.json()).toEqual({ ...ERROR_SHAPE, statusCode: 413, error: 'Payload Too Large', message: 'payload: is 65538 bytes as JSON; at most 65536 are allowed' });
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it.each([
      ['an unknown field', { ...anActivity(), extra: 1 }, 'extra: is not allowed'],
      ['an empty agent', anActivity({ agent: '' }), 'agent: must be a string of 1 to 100 characters'],
      ['a 101-character action', anActivity({ action: 'a'.repeat(101) }), 'action: must be a string of 1 to 100 characters'],
      ['no action', { agent: 'planner' }, 'action: is required'],
      ['a numeric agent', anActivity({ agent: 7 }), 'agent: must be a string of 1 to 100 characters'],
    ])('answers 400 for %s and writes nothing', async (_case, payload, message) => {
      const project = await createProject(sut.app, alice);
      const before = await tableCounts(sut.app);

      const res = await inject({ method: 'POST', url: activitiesUrl(project.id), headers: alice.headers, payload });

      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 400 });
      expect(res.json().message).toBe(message);
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it('accepts a 100-character agent and action', async () => {
      const project = await createProject(sut.app, alice);

      const body = await record(alice, project.id, { agent: 'g'.repeat(100), action: 'a'.repeat(100) });

      expect(body.agent).toHaveLength(100);
      expect(body.action).toHaveLength(100);
    });
  });

  describe('POST /api/projects/:id/activities/batch', () => {
    it('stores every item in one statement and answers the rows in the order given', async () => {
      const project = await createProject(sut.app, alice);
      const before = writer.stats().batches;
      const items = [anActivity({ action: 'first' }), anActivity({ action: 'second', payload: [1] }), anActivity({ action: 'third', payload: null })];

      const res = await inject({ method: 'POST', url: batchUrl(project.id), headers: alice.headers, payload: { items } });

      expect(res.statusCode).toBe(201);
      const rows: ActivityBody[] = res.json().items;
      expect(rows.map((r) => [r.action, r.payload])).toEqual([
        ['first', { tokens: 12 }],
        ['second', [1]],
        ['third', null],
      ]);
      expect(rows.every((r) => r.projectId === project.id && r.createdAt === rows[0].createdAt)).toBe(true);
      expect([...rows].sort(compareRows)).toEqual(rows);
      expect(writer.stats().batches - before).toBe(1);
      const stored = await db.query(`SELECT id::text, action FROM agent_activities WHERE project_id = $1 ORDER BY id`, [project.id]);
      expect(stored).toEqual(rows.map((r) => ({ id: r.id, action: r.action })));
    });

    it('stores 1000 items, more than ACTIVITY_BATCH_MAX, in one transaction', async () => {
      const project = await createProject(sut.app, alice);
      const before = writer.stats();
      const items = Array.from({ length: 1000 }, (_, i) => anActivity({ action: `n${i}`, payload: { i } }));

      const rows = await recordMany(alice, project.id, items);

      expect(rows.map((r) => r.action)).toEqual(items.map((i) => i.action));
      expect(new Set(rows.map((r) => r.createdAt)).size).toBe(1);
      expect(writer.stats().batches - before.batches).toBe(1);
      expect(writer.stats().recentBatchSizes.at(-1)).toBe(1000);
      const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM agent_activities WHERE project_id = $1`, [project.id]);
      expect(count).toBe(1000);
    });

    it.each([
      ['no items', { items: [] }, 'items: must contain 1 to 1000 items'],
      ['1001 items', { items: Array.from({ length: 1001 }, () => anActivity()) }, 'items: must contain 1 to 1000 items'],
      ['items that are not a list', { items: 'many' }, 'items: must be an array of 1 to 1000 items'],
      ['an empty agent in one item', { items: [anActivity(), anActivity({ agent: '' })] }, 'items.1.agent: must be a string of 1 to 100 characters'],
      ['a 101-character action in one item', { items: [anActivity({ action: 'a'.repeat(101) })] }, 'items.0.action: must be a string of 1 to 100 characters'],
      ['an unknown field in one item', { items: [{ ...anActivity(), extra: true }] }, 'items.0.extra: is not allowed'],
      ['an item that is not an object', { items: [anActivity(), 5] }, 'items.1: must be an object'],
      ['an unknown top-level field', { items: [anActivity()], extra: 1 }, 'extra: is not allowed'],
    ])('answers 400 for %s and writes nothing', async (_case, payload, message) => {
      const project = await createProject(sut.app, alice);
      const before = await tableCounts(sut.app);

      const res = await inject({ method: 'POST', url: batchUrl(project.id), headers: alice.headers, payload });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe(message);
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it('answers 413 naming the item whose payload is above 64 KiB, and writes none of the items', async () => {
      const project = await createProject(sut.app, alice);
      const before = await tableCounts(sut.app);

      const res = await inject({
        method: 'POST',
        url: batchUrl(project.id),
        headers: alice.headers,
        payload: { items: [anActivity(), anActivity(), anActivity({ payload: { blob: 'x'.repeat(KIB_64) } })] },
      });

      expect(res.statusCode).toBe(413);
      expect(res.json().message).toMatch(/^items\.2\.payload: is \d+ bytes as JSON; at most 65536 are allowed$/);
      expect(await tableCounts(sut.app)).toEqual(before);
    });
  });

  describe('group commit', () => {
    it('answers 500 concurrent POSTs with 500 committed rows, each visible when its answer arrives, in far fewer statements', async () => {
      const project = await createProject(sut.app, alice);
      const before = writer.stats();
      const visibleOnAnswer: boolean[] = [];

      const responses = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          inject({ method: 'POST', url: activitiesUrl(project.id), headers: alice.headers, payload: anActivity({ action: `burst-${i}`, payload: { i } }) }).then(
            async (res) => {
              // Read right as the answer lands: an acknowledged row must already be committed.
              if (res.statusCode === 201 && i % 10 === 0) visibleOnAnswer.push((await storedRow(res.json().id)) !== undefined);
              return res;
            },
          ),
        ),
      );

      expect(responses.map((r) => r.statusCode)).toEqual(Array(500).fill(201));
      const bodies: ActivityBody[] = responses.map((r) => r.json());
      expect(bodies.map((b) => b.action)).toEqual(Array.from({ length: 500 }, (_, i) => `burst-${i}`));
      expect(new Set(bodies.map((b) => b.id)).size).toBe(500);
      expect(visibleOnAnswer).toEqual(Array(50).fill(true));
      const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM agent_activities WHERE project_id = $1`, [project.id]);
      expect(count).toBe(500);
      const after = writer.stats();
      expect(after.rows - before.rows).toBe(500);
      expect(after.requests - before.requests).toBe(500);
      expect(after.batches - before.batches).toBeLessThan(500);
      expect(after.batches - before.batches).toBeGreaterThan(0);
    });
  });

  describe('GET /api/projects/:id/activities', () => {
    it('pages newest first by default and oldest first with order=asc, never repeating or skipping a row while others insert', async () => {
      const project = await createProject(sut.app, alice);
      const seeded: ActivityBody[] = [];
      for (let b = 0; b < 4; b++) seeded.push(...(await recordMany(alice, project.id, Array.from({ length: 15 }, () => anActivity()))));
      for (let s = 0; s < 20; s++) seeded.push(await record(alice, project.id));
      const inserts: Promise<ActivityBody>[] = [];
      const insertMeanwhile = () => {
        if (inserts.length < 40) inserts.push(record(alice, project.id, { action: 'meanwhile' }));
      };

      for (const order of ['desc', 'asc'] as const) {
        const query: Record<string, string | number> = order === 'desc' ? { limit: 7 } : { limit: 7, order };
        const { items, pages } = await listAll(alice, project.id, query, insertMeanwhile);

        const ids = items.map((i) => i.id);
        expect(new Set(ids).size).toBe(ids.length);
        const seen = new Set(ids);
        expect(seeded.filter((s) => !seen.has(s.id))).toEqual([]);
        const expected = [...items].sort(compareRows);
        expect(items).toEqual(order === 'asc' ? expected : expected.reverse());
        expect(pages).toBeGreaterThanOrEqual(Math.ceil(seeded.length / 7));
      }
      await Promise.all(inserts);
    });

    it('filters by agent, action and a [since, until) window, and pages within the filter', async () => {
      const project = await createProject(sut.app, alice);
      const rows: ActivityBody[] = [];
      for (const [agent, action] of [
        ['planner', 'read'],
        ['coder', 'edit'],
        ['planner', 'edit'],
        ['coder', 'read'],
        ['planner', 'read'],
      ]) {
        rows.push(await record(alice, project.id, { agent, action }));
      }
      const ids = async (query: Record<string, string | number>) => (await listAll(alice, project.id, { limit: 2, ...query })).items.map((i) => i.action + ':' + i.agent + ':' + rows.findIndex((r) => r.id === i.id));

      expect(await ids({ agent: 'planner' })).toEqual(['read:planner:4', 'edit:planner:2', 'read:planner:0']);
      expect(await ids({ action: 'edit', order: 'asc' })).toEqual(['edit:coder:1', 'edit:planner:2']);
      expect(await ids({ agent: 'coder', action: 'read' })).toEqual(['read:coder:3']);
      expect(await ids({ since: rows[2].createdAt, order: 'asc' })).toEqual(['edit:planner:2', 'read:coder:3', 'read:planner:4']);
      expect(await ids({ until: rows[2].createdAt, order: 'asc' })).toEqual(['read:planner:0', 'edit:coder:1']);
      expect(await ids({ since: rows[1].createdAt, until: rows[3].createdAt })).toEqual(['edit:planner:2', 'edit:coder:1']);
      expect(await ids({ since: '2000-01-01T02:00:00+02:00', until: '2999-01-01T00:00Z', agent: 'coder' })).toEqual(['read:coder:3', 'edit:coder:1']);
      expect(await ids({ agent: 'nobody' })).toEqual([]);
    });

    it('answers the default page of 20 with a cursor, and an empty list for a project without activities', async () => {
      const project = await createProject(sut.app, alice);
      const empty = await createProject(sut.app, alice);
      await recordMany(alice, project.id, Array.from({ length: 21 }, () => anActivity()));

      const full = await listPage(alice, project.id, {});
      const none = await listPage(alice, empty.id, {});

      expect(full.json().items).toHaveLength(20);
      expect(full.json().nextCursor).toEqual(expect.any(String));
      expect(none.json()).toEqual({ items: [], nextCursor: null });
    });

    it('answers 400 for a cursor that was tampered with or belongs to another list', async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      await recordMany(alice, project.id, Array.from({ length: 3 }, () => anActivity({ agent: 'planner' })));
      const cursor: string = (await listPage(alice, project.id, { limit: 1, agent: 'planner' })).json().nextCursor;
      const [body, signature] = cursor.split('.');
      const forged = Buffer.from(JSON.stringify(['2999-01-01T00:00:00.000000Z', '1'])).toString('base64url');

      const attempts: Record<string, string>[] = [
        { agent: 'planner', cursor: `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}` },
        { agent: 'planner', cursor: `${forged}.${signature}` },
        { agent: 'planner', cursor: 'garbage' },
        { agent: 'coder', cursor },
        { cursor },
        { agent: 'planner', order: 'asc', cursor },
        { agent: 'planner', since: '2000-01-01T00:00:00Z', cursor },
      ];
      for (const query of attempts) {
        const res = await listPage(alice, project.id, { limit: 1, ...query });
        expect(res.statusCode).toBe(400);
        expect(res.json().message).toMatch(/^cursor: /);
      }
      const elsewhere = await listPage(alice, other.id, { limit: 1, agent: 'planner', cursor });
      expect(elsewhere.statusCode).toBe(400);
      expect((await listPage(alice, project.id, { limit: 1, agent: 'planner', cursor })).statusCode).toBe(200);
    });

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 101 }, 'limit'],
      [{ order: 'sideways' }, 'order'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: '2025-05-01' }, 'since'],
      [{ since: '2025-05-01T12:00:00' }, 'since'],
      [{ until: '2025-02-30T00:00:00Z' }, 'until'],
      [{ since: '2025-W18-4' }, 'since'],
      [{ agent: 'a'.repeat(101) }, 'agent'],
      [{ unknown: 'x' }, 'unknown'],
    ])('answers 400 for %o', async (query, field) => {
      const project = await createProject(sut.app, alice);

      const res = await listPage(alice, project.id, query);

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toContain(field);
    });

    it('reads a page after any cursor as one range scan of the (project_id, created_at, id) index, without sorting or OFFSET', async () => {
      const project = await createProject(sut.app, alice);
      for (let b = 0; b < 2; b++) await recordMany(alice, project.id, Array.from({ length: 1000 }, () => anActivity()));
      await db.query('ANALYZE agent_activities');
      for (const order of ['asc', 'desc']) {
          const query = { limit: 20, order, since: '2000-01-01T00:00:00Z' };
          // 1500 rows deep: the cursor, not an offset, says where the scan starts.
          let cursor: string | undefined;
          for (let page = 0; page < 15; page++) {
            cursor = (await listPage(alice, project.id, cursor === undefined ? { ...query, limit: 100 } : { ...query, limit: 100, cursor })).json().nextCursor;
          }
          let res: Awaited<ReturnType<typeof listPage>> | undefined;
          const calls = await capturePoolQueries(sut.app, async () => {
            res = await listPage(alice, project.id, { ...query, cursor: cursor! });
          });

          expect(res!.statusCode).toBe(200);
          const [sql, params] = calls.find(([text]) => text.includes('FROM agent_activities a WHERE'))!;
          expect(sql).not.toMatch(/OFFSET/i);
          const [{ 'QUERY PLAN': explained }] = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
          const nodes = planNodes((typeof explained === 'string' ? JSON.parse(explained) : explained)[0].Plan);
          expect(nodes.map((n) => n['Node Type'])).toEqual(['Limit', 'Index Scan']);
          expect(nodes[1]).toMatchObject({
            'Index Name': 'agent_activities_project_id_created_at_id_idx',
            'Scan Direction': order === 'asc' ? 'Forward' : 'Backward',
            'Index Cond': expect.stringMatching(order === 'asc' ? /ROW\(created_at, id\) > ROW/ : /ROW\(created_at, id\) < ROW/),
          });
      }
    });
  });

  describe('ownership', () => {
    it("answers 404 on every route for another user's project or a missing one, and writes nothing", async () => {
      const project = await createProject(sut.app, alice);
      await record(alice, project.id);
      const before = await tableCounts(sut.app);

      for (const projectId of [project.id, randomUUID()]) {
        const answers = await Promise.all([
          inject({ method: 'POST', url: activitiesUrl(projectId), headers: bob.headers, payload: anActivity() }),
          inject({ method: 'POST', url: batchUrl(projectId), headers: bob.headers, payload: { items: [anActivity()] } }),
          inject({ method: 'GET', url: activitiesUrl(projectId), headers: bob.headers }),
        ]);
        for (const res of answers) {
          expect(res.statusCode).toBe(404);
          expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 404, error: 'Not Found', message: 'Project not found' });
        }
      }
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it('answers 401 without a token and 400 for a project id that is not a UUID', async () => {
      const noToken = await inject({ method: 'POST', url: activitiesUrl(randomUUID()), payload: anActivity() });
      const badId = await inject({ method: 'GET', url: activitiesUrl('not-a-uuid'), headers: alice.headers });

      expect(noToken.statusCode).toBe(401);
      expect(badId.statusCode).toBe(400);
      expect(badId.json().message).toContain('id');
    });
  });
});

describe('activities with a slow batch window (real PostgreSQL)', () => {
  let slow: TestApp;
  let writer: ActivityWriter;
  let carol: TestUser;
  let closed = false;

  beforeAll(async () => {
    slow = await bootApp({ ...ENV, ACTIVITY_BATCH_WAIT_MS: '1000' });
    writer = slow.app.get(ActivityWriter);
    carol = await aUser(slow.app);
  });

  afterAll(async () => {
    if (closed) await dropTestDatabase(slow.url);
    else await slow.close();
  });

  it('fails only the request whose project was deleted while its batch was waiting; the others commit', async () => {
    const [kept, deleted, alsoKept] = [await createProject(slow.app, carol), await createProject(slow.app, carol), await createProject(slow.app, carol)];
    const before = writer.stats();
    const post = (projectId: string, url = activitiesUrl(projectId), payload: unknown = anActivity()) =>
      slow.app.inject({ method: 'POST', url, headers: carol.headers, payload: payload as Record<string, unknown> });

    const answers = Promise.all([
      post(kept.id),
      post(deleted.id, batchUrl(deleted.id), { items: [anActivity(), anActivity()] }),
      post(alsoKept.id),
    ]);
    await until(() => writer.stats().queuedRequests === 3, 'the three requests to be queued');
    await slow.app.get(DataSource).query('DELETE FROM projects WHERE id = $1', [deleted.id]);
    const [first, failed, third] = await answers;

    expect(first.statusCode).toBe(201);
    expect(third.statusCode).toBe(201);
    expect(failed.statusCode).toBe(404);
    expect(failed.json()).toMatchObject({ statusCode: 404, message: 'Project not found' });
    const after = writer.stats();
    expect(after.failedBatches - before.failedBatches).toBeGreaterThanOrEqual(2);
    expect(after.requests - before.requests).toBe(2);
    const stored = await slow.app.get(DataSource).query(`SELECT project_id FROM agent_activities ORDER BY id`);
    expect(stored.map((r: { project_id: string }) => r.project_id).sort()).toEqual([kept.id, alsoKept.id].sort());
  });

  it('on shutdown writes every queued activity before the pool closes: nothing acknowledged is lost', async () => {
    const project = await createProject(slow.app, carol);
    const direct = Array.from({ length: 30 }, (_, i) =>
      writer.enqueue([{ projectId: project.id, agent: 'shutdown', action: `direct-${i}`, payloadJson: JSON.stringify({ i }) }]),
    );
    const viaHttp = Array.from({ length: 10 }, (_, i) =>
      slow.app.inject({ method: 'POST', url: activitiesUrl(project.id), headers: carol.headers, payload: anActivity({ action: `http-${i}` }) }),
    );
    await until(() => writer.stats().queuedRequests === 40, 'the forty requests to be queued');

    await slow.app.close();
    closed = true;

    const directRows = (await Promise.all(direct)).flat();
    const httpRows: ActivityBody[] = (await Promise.all(viaHttp)).map((res) => {
      expect(res.statusCode).toBe(201);
      return res.json();
    });
    const acknowledged = [...directRows.map((r) => r.id), ...httpRows.map((r) => r.id)];
    expect(acknowledged).toHaveLength(40);
    const client = new Client({ connectionString: slow.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT id::text FROM agent_activities WHERE id = ANY($1::bigint[])`, [acknowledged]);
      expect(rows.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
    } finally {
      await client.end();
    }
  });
});

describe('activities with the writer disabled: one INSERT per request (real PostgreSQL)', () => {
  let sut: TestApp;
  let dave: TestUser;

  beforeAll(async () => {
    sut = await bootApp({ ...ENV, ACTIVITY_BATCH_ENABLED: 'false' });
    dave = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  it('stores single and batch requests, each in its own statement', async () => {
    const project = await createProject(sut.app, dave);
    const writer = sut.app.get(ActivityWriter);

    const singles = await Promise.all(
      Array.from({ length: 20 }, () => sut.app.inject({ method: 'POST', url: activitiesUrl(project.id), headers: dave.headers, payload: anActivity() })),
    );
    const batch = await sut.app.inject({ method: 'POST', url: batchUrl(project.id), headers: dave.headers, payload: { items: [anActivity(), anActivity()] } });

    expect(singles.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect(batch.statusCode).toBe(201);
    expect(batch.json().items).toHaveLength(2);
    expect(writer.stats()).toMatchObject({ enabled: false, batches: 21, rows: 22 });
    const [{ count }] = await sut.app.get(DataSource).query(`SELECT count(*)::int AS count FROM agent_activities WHERE project_id = $1`, [project.id]);
    expect(count).toBe(22);
  });
});
