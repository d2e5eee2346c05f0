import { DataSource } from 'typeorm';
import { ActivityWriter } from '../../../src/activities/activity-writer';
import { ERROR_SHAPE, TIMESTAMP } from '../../support/assertions';
import { anActivity, aUser, createProject, tableCounts, TestUser } from '../../support/factories';
import { bootApp, TestApp } from '../../support/test-app';
import { activitiesUrl, ActivityBody, batchUrl, compareRows, ENV, record, recordMany, storedRow } from './activities.support';

const KIB_64 = 64 * 1024;

describe('activities API (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let writer: ActivityWriter;
  let alice: TestUser;

  beforeAll(async () => {
    sut = await bootApp(ENV);
    db = sut.app.get(DataSource);
    writer = sut.app.get(ActivityWriter);
    alice = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

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
      expect(await storedRow(db, body.id)).toEqual({
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

      const body = await record(sut.app, alice, project.id, { payload });

      expect(body.payload).toEqual(payload);
      expect((await storedRow(db, body.id)).payload).toEqual(payload);
    });

    it('stores an absent payload as SQL NULL', async () => {
      const project = await createProject(sut.app, alice);

      const body = await record(sut.app, alice, project.id, { payload: undefined });

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

      const body = await record(sut.app, alice, project.id, { agent: 'g'.repeat(100), action: 'a'.repeat(100) });

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

      const rows = await recordMany(sut.app, alice, project.id, items);

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
});
