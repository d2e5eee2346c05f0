import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ERROR_SHAPE } from '../../support/assertions';
import { anActivity, aUser, capturePoolQueries, createProject, tableCounts, TestUser } from '../../support/factories';
import { bootApp, TestApp } from '../../support/test-app';
import { activitiesUrl, ActivityBody, batchUrl, compareRows, ENV, record, recordMany } from './activities.support';

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

describe('activities API (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    sut = await bootApp(ENV);
    db = sut.app.get(DataSource);
    alice = await aUser(sut.app);
    bob = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

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

  describe('GET /api/projects/:id/activities', () => {
    it('pages newest first by default and oldest first with order=asc, never repeating or skipping a row while others insert', async () => {
      const project = await createProject(sut.app, alice);
      const seeded: ActivityBody[] = [];
      for (let b = 0; b < 4; b++) seeded.push(...(await recordMany(sut.app, alice, project.id, Array.from({ length: 15 }, () => anActivity()))));
      for (let s = 0; s < 20; s++) seeded.push(await record(sut.app, alice, project.id));
      const inserts: Promise<ActivityBody>[] = [];
      const insertMeanwhile = () => {
        if (inserts.length < 40) inserts.push(record(sut.app, alice, project.id, { action: 'meanwhile' }));
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
        rows.push(await record(sut.app, alice, project.id, { agent, action }));
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
      await recordMany(sut.app, alice, project.id, Array.from({ length: 21 }, () => anActivity()));

      const full = await listPage(alice, project.id, {});
      const none = await listPage(alice, empty.id, {});

      expect(full.json().items).toHaveLength(20);
      expect(full.json().nextCursor).toEqual(expect.any(String));
      expect(none.json()).toEqual({ items: [], nextCursor: null });
    });

    it('answers 400 for a cursor that was tampered with or belongs to another list', async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      await recordMany(sut.app, alice, project.id, Array.from({ length: 3 }, () => anActivity({ agent: 'planner' })));
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
      for (let b = 0; b < 2; b++) await recordMany(sut.app, alice, project.id, Array.from({ length: 1000 }, () => anActivity()));
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
      await record(sut.app, alice, project.id);
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
