import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ActivityWriter } from '../../../src/activities/activity-writer';
import { anActivity, aUser, createProject, TestUser } from '../../support/factories';
import { dropTestDatabase } from '../../support/test-database';
import { bootApp, TestApp } from '../../support/test-app';
import { activitiesUrl, ActivityBody, batchUrl, ENV, storedRow } from './activities.support';
import { until } from '../../support/eventually';

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
              if (res.statusCode === 201 && i % 10 === 0) visibleOnAnswer.push((await storedRow(db, res.json().id)) !== undefined);
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
    await until(() => writer.stats().queuedRequests === 3);
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
    await until(() => writer.stats().queuedRequests === 40);

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
