import { randomUUID } from 'node:crypto';
import { CacheService } from '../../../src/cache/cache.service';
import { aFile, aUser, anActivity, createProject, TestUser } from '../../support/factories';
import { until, waitFor } from '../../support/eventually';
import { query, ReplicationPair } from '../../support/replication-pair';
import { bootApp, TestApp } from '../../support/test-app';

interface Listed {
  items: { id: string }[];
}

// Runs against a real Redis when REDIS_URL is set (.ci/run sets it when a local Redis answers).
const redisUrl = process.env.REDIS_URL;
const itWithRedis = redisUrl ? it : it.skip;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The app on a primary with one hot standby streaming from it, both real PostgreSQL servers (one
 * pair for the whole file). Where a read was served is proved by pausing the standby's replay: a
 * row committed on the primary afterwards exists only there, so a list that lacks it was read on
 * the replica, and one that shows it at once was read on the primary.
 */
describe('read replicas (a real streaming standby)', () => {
  let pair: ReplicationPair;
  let sut: TestApp;
  let user: TestUser;
  let admin: TestUser;
  let project: { id: string };

  const get = (url: string, who: TestUser | undefined = user) => sut.app.inject({ method: 'GET', url, headers: who?.headers ?? {} });
  const post = async <T>(url: string, payload: Record<string, unknown>): Promise<T> => {
    const res = await sut.app.inject({ method: 'POST', url, headers: user.headers, payload });
    expect(res.statusCode).toBe(201);
    return res.json() as T;
  };
  const listed = async (url: string): Promise<string[]> => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    return (res.json() as Listed).items.map((item) => item.id);
  };
  const onStandby = (sql: string) => query(pair.standbyAdminUrl, sql);

  beforeAll(async () => {
    pair = await ReplicationPair.start();
    sut = await bootApp(
      {
        DATABASE_REPLICA_URLS: pair.standbyUrl,
        // A list answer kept by the HTTP cache would hide which server the next one is read from.
        CACHE_ENABLED: 'false',
        DB_POOL_SIZE: '2',
        DB_MAX_OVERFLOW: '2',
      },
      { url: pair.primaryUrl },
    );
    user = await aUser(sut.app);
    admin = await aUser(sut.app, { role: 'admin' });
    project = await createProject(sut.app, user);
    // The replica has caught up with everything so far.
    await waitFor(() => listed('/api/projects'), (ids) => ids.includes(project.id), 10_000);
  }, 120_000);

  afterAll(async () => {
    await sut?.close();
    await pair?.stop();
  });

  it('serves project, file and activity lists from the replica, and reads a write back by its id from the primary at once', async () => {
    await onStandby('SELECT pg_wal_replay_pause()');
    await waitFor(() => onStandby('SELECT pg_get_wal_replay_pause_state() AS state'), (rows) => (rows[0] as { state: string }).state === 'paused');
    try {
      const created = await post<{ id: string }>('/api/projects', { name: 'written while replay is paused' });
      const file = await post<{ id: string }>(`/api/projects/${project.id}/files`, aFile());
      const activity = await post<{ id: string }>(`/api/projects/${project.id}/activities`, anActivity());

      // Read-your-own-write: by id, from the primary.
      expect((await get(`/api/projects/${created.id}`)).statusCode).toBe(200);
      expect((await get(`/api/projects/${project.id}/files/${file.id}`)).statusCode).toBe(200);

      // The rows are committed on the primary and not replayed on the standby...
      const count = `SELECT (SELECT count(*) FROM projects WHERE id = '${created.id}')::int AS n`;
      expect(await query(pair.primaryUrl, count)).toEqual([{ n: 1 }]);
      expect(await query(pair.standbyUrl, count)).toEqual([{ n: 0 }]);
      // ...so lists without them were read on the replica.
      expect(await listed('/api/projects')).not.toContain(created.id);
      expect(await listed(`/api/projects/${project.id}/files`)).not.toContain(file.id);
      expect(await listed(`/api/projects/${project.id}/activities`)).not.toContain(activity.id);

      await onStandby('SELECT pg_wal_replay_resume()');
      await waitFor(() => listed('/api/projects'), (ids) => ids.includes(created.id), 10_000);
      await waitFor(() => listed(`/api/projects/${project.id}/files`), (ids) => ids.includes(file.id), 10_000);
      await waitFor(() => listed(`/api/projects/${project.id}/activities`), (ids) => ids.includes(activity.id), 10_000);
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
    }
  });

  it('with the HTTP cache on, keeps a list read from a lagging replica after a write only for DB_REPLICA_MAX_LAG_MS, not CACHE_TTL_MS', async () => {
    const cached = await bootApp(
      { DATABASE_REPLICA_URLS: pair.standbyUrl, DB_REPLICA_MAX_LAG_MS: '300', CACHE_TTL_MS: '30000', DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '2' },
      { url: pair.primaryUrl },
    );
    const list = async (): Promise<{ ids: string[]; cache: unknown }> => {
      const res = await cached.app.inject({ method: 'GET', url: '/api/projects', headers: user.headers });
      expect(res.statusCode).toBe(200);
      return { ids: (res.json() as Listed).items.map((item) => item.id), cache: res.headers['x-cache'] };
    };
    await onStandby('SELECT pg_wal_replay_pause()');
    try {
      await waitFor(() => onStandby('SELECT pg_get_wal_replay_pause_state() AS state'), (rows) => (rows[0] as { state: string }).state === 'paused');
      const res = await cached.app.inject({ method: 'POST', url: '/api/projects', headers: user.headers, payload: { name: 'cached while replay is paused' } });
      expect(res.statusCode).toBe(201);
      const created = res.json() as { id: string };

      // Loaded after the write's invalidation, from the replica that has not replayed it.
      const stale = await list();
      expect(stale).toMatchObject({ cache: 'MISS' });
      expect(stale.ids).toContain(project.id);
      expect(stale.ids).not.toContain(created.id);

      await onStandby('SELECT pg_wal_replay_resume()');
      const count = `SELECT (SELECT count(*) FROM projects WHERE id = '${created.id}')::int AS n`;
      await waitFor(() => query(pair.standbyUrl, count), (rows) => (rows[0] as { n: number }).n === 1, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 400));

      // Kept for CACHE_TTL_MS, the stale list would still be answered here.
      expect((await list()).ids).toContain(created.id);
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
      await cached.close();
    }
  });

  itWithRedis('two instances sharing Redis: a list one read from the lagging replica after the other’s write is dropped by both after DB_REPLICA_MAX_LAG_MS', async () => {
    // Long enough for the steps between the write and the writer's read of the reader's entry.
    const env = { DATABASE_REPLICA_URLS: pair.standbyUrl, DB_REPLICA_MAX_LAG_MS: '1000', REDIS_URL: redisUrl!, CACHE_NAMESPACE: `t${randomUUID().slice(0, 8)}`, DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '2' };
    const writer = await bootApp(env, { url: pair.primaryUrl });
    const reader = await bootApp(env, { url: pair.primaryUrl });
    const list = async (app: typeof writer) => {
      const res = await app.app.inject({ method: 'GET', url: '/api/projects', headers: user.headers });
      expect(res.statusCode).toBe(200);
      return { ids: (res.json() as Listed).items.map((item) => item.id), cache: res.headers['x-cache'] };
    };
    try {
      for (const app of [writer, reader]) await until(async () => app.app.get(CacheService).tagVersionStats().subscription_live, 5_000);
      // Bumps missed before the subscription was live count as made when it went live.
      await sleep(1_100);
      await list(reader);
      expect((await list(reader)).cache).toBe('HIT');

      await onStandby('SELECT pg_wal_replay_pause()');
      await waitFor(() => onStandby('SELECT pg_get_wal_replay_pause_state() AS state'), (rows) => (rows[0] as { state: string }).state === 'paused');
      const res = await writer.app.inject({ method: 'POST', url: '/api/projects', headers: user.headers, payload: { name: 'cached elsewhere while replay is paused' } });
      expect(res.statusCode).toBe(201);
      const created = res.json() as { id: string };
      // The invalidation message reaches the reader.
      await until(async () => (await list(reader)).cache === 'MISS', 2_000);

      // Read on the replica by the reader, stored in its memory and in Redis, where the writer finds it.
      const stale = await list(reader);
      expect(stale.ids).not.toContain(created.id);
      const fromRedis = await list(writer);
      expect(fromRedis.cache).toBe('HIT');
      expect(fromRedis.ids).not.toContain(created.id);

      await onStandby('SELECT pg_wal_replay_resume()');
      const count = `SELECT (SELECT count(*) FROM projects WHERE id = '${created.id}')::int AS n`;
      await waitFor(() => query(pair.standbyUrl, count), (rows) => (rows[0] as { n: number }).n === 1, 10_000);
      await sleep(1_100);

      expect((await list(reader)).ids).toContain(created.id);
      expect((await list(writer)).ids).toContain(created.id);
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
      await writer.close();
      await reader.close();
    }
  });

  it('reports replica-0 in /debug/pool-status, /metrics and readiness', async () => {
    const pools = (await get('/debug/pool-status', admin)).json() as { pool: string; replicas: { pool: string; total: number }[] };
    expect(pools.pool).toBe('primary');
    expect(pools.replicas.map((r) => r.pool)).toEqual(['replica-0']);
    expect(pools.replicas[0].total).toBeGreaterThan(0);

    const metrics = await get('/metrics', undefined);
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^db_pool_connections\{pool="replica-0"\} [1-9]/m);
    expect(metrics.body).toMatch(/^db_pool_connections_max\{pool="replica-0"\} 4$/m);

    const ready = await get('/health/ready', admin);
    expect(ready.statusCode).toBe(200);
    expect(ready.json().details.replicas).toMatchObject({ status: 'up', 'replica-0': { status: 'up', pool: { max: 4 } } });
  });

  it('moves list reads to the primary when the replica stops: lists answer 200 with fresh rows, readiness stays 200 with replica-0 down', async () => {
    await pair.standby.stop();

    const created = await post<{ id: string }>('/api/projects', { name: 'written with the replica down' });
    // Only the primary has it, so the list came from the primary.
    expect(await listed('/api/projects')).toContain(created.id);
    expect(await listed(`/api/projects/${project.id}/files`)).not.toHaveLength(0);
    expect(await listed(`/api/projects/${project.id}/activities`)).not.toHaveLength(0);
    // Marked down for a backoff that grows while it keeps failing: most of the next lists go
    // straight to the primary without paying (and counting) another failure.
    const fallbacks = async () => Number(/^db_replica_fallbacks_total\{pool="replica-0"\} (\d+)$/m.exec((await get('/metrics', undefined)).body)?.[1]);
    const counted = await fallbacks();
    expect(counted).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i++) expect((await get('/api/projects')).statusCode).toBe(200);
    expect((await fallbacks()) - counted).toBeLessThanOrEqual(3);

    const anonymous = await get('/health/ready', undefined);
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.json().details).toMatchObject({ database: { status: 'up' }, replicas: { status: 'up', 'replica-0': { status: 'down' } } });
    expect(anonymous.json().details.replicas['replica-0']).toEqual({ status: 'down' });

    const detailed = (await get('/health/ready', admin)).json();
    expect(detailed.status).toBe('ok');
    expect(detailed.details.replicas['replica-0']).toMatchObject({ status: 'down', error: expect.any(String) });

    const pools = (await get('/debug/pool-status', admin)).json() as { replicas: { pool: string }[] };
    expect(pools.replicas.map((r) => r.pool)).toEqual(['replica-0']);
    expect((await get('/metrics', undefined)).body).toMatch(/^db_pool_connections_max\{pool="replica-0"\} 4$/m);
  });

  it('starts while its replica is down, and serves lists from the primary until it returns', async () => {
    expect(pair.standby.running).toBe(false);
    const second = await bootApp({ DATABASE_REPLICA_URLS: pair.standbyUrl, CACHE_ENABLED: 'false' }, { url: pair.primaryUrl });
    try {
      const res = await second.app.inject({ method: 'GET', url: '/api/projects', headers: user.headers });
      expect(res.statusCode).toBe(200);
      expect((res.json() as Listed).items.map((p) => p.id)).toContain(project.id);

      const ready = await second.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().details.replicas).toEqual({ status: 'up', 'replica-0': { status: 'down' } });
    } finally {
      await second.close();
    }
  });
});
