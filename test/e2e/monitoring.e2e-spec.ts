import { PoolObserver } from '../../src/database/pool-observer';
import { aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('monitoring and debugging (real PostgreSQL)', () => {
  let sut: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    sut = await bootApp({
      DB_POOL_SIZE: '2',
      DB_MAX_OVERFLOW: '2',
      DB_POOL_TIMEOUT_MS: '300',
      DB_STATEMENT_TIMEOUT_MS: '5000',
      DB_SLOW_QUERY_MS: '200',
      METRICS_TOKEN: 'scrape-secret',
      RATE_LIMIT_PER_MINUTE: '300',
    });
    admin = await aUser(sut.app, { role: 'admin' });
    user = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const scrape = async () => {
    const res = await sut.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  describe('/metrics', () => {
    it('needs METRICS_TOKEN when set', async () => {
      expect((await sut.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await sut.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      const ok = await sut.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    });

    it('labels HTTP series by route template, bounds unknown URLs to one label, and leaves itself out', async () => {
      const project = await createProject(sut.app, user);
      const before = await scrape();
      const count = (t: string) => sample(t, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/projects/:id', status_code: '200' }) ?? 0;
      for (let i = 0; i < 3; i++) await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      for (let i = 0; i < 5; i++) await sut.app.inject({ method: 'GET', url: `/no/such/${i}` });
      await scrape();

      const after = await scrape();
      expect(count(after) - count(before)).toBe(3);
      expect(after).not.toContain(project.id);
      expect(after).not.toContain('/no/such');
      expect(sample(after, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(5);
      expect(after).not.toMatch(/route="\/metrics"/);
      expect(sample(after, 'http_requests_in_flight')).toBe(0);
    });

    it('counts requests in flight while they are served, and every cache lookup exactly once', async () => {
      const project = await createProject(sut.app, user);
      await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      const hits = (t: string) => sample(t, 'cache_requests_total', { cache: 'http', result: 'hit' }) ?? 0;
      const before = await scrape();

      const holding = sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=1&delay=0.5', headers: admin.headers });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const during = await scrape();
      expect((await holding).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      const after = await scrape();

      expect(sample(during, 'http_requests_in_flight')).toBe(1);
      expect(sample(after, 'http_requests_in_flight')).toBe(0);
      expect(hits(after) - hits(before)).toBe(3);
    });

    it('exports the pool, query, cache, rate-limit, writer and process series', async () => {
      const project = await createProject(sut.app, user);
      await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      await sut.app.inject({ method: 'POST', url: `/api/projects/${project.id}/activities`, headers: user.headers, payload: { agent: 'a', action: 'b' } });

      const text = await scrape();

      for (const name of ['db_pool_connections', 'db_pool_connections_active', 'db_pool_connections_idle', 'db_pool_connections_pending', 'db_pool_overflow']) {
        expect(sample(text, name, { pool: 'primary' })).toBeDefined();
      }
      expect(sample(text, 'db_pool_connections_max', { pool: 'primary' })).toBe(4);
      expect(sample(text, 'db_pool_connections_min', { pool: 'primary' })).toBe(2);
      expect(sample(text, 'db_pool_connections_timeout_total', { pool: 'primary' })).toBeDefined();
      expect(sample(text, 'db_pool_connections_acquire_seconds_count', { pool: 'primary' })).toBeGreaterThan(0);
      expect(sample(text, 'db_pool_connections_usage_seconds_count', { pool: 'primary' })).toBeGreaterThan(0);
      expect(text).toContain('db_pool_connections_creation_seconds_bucket');
      expect(sample(text, 'db_query_duration_seconds_count', { operation: 'select' })).toBeGreaterThan(0);
      expect(sample(text, 'db_query_duration_seconds_count', { operation: 'insert' })).toBeGreaterThan(0);
      expect(sample(text, 'cache_requests_total', { cache: 'http', result: 'hit' })).toBeGreaterThan(0);
      expect(sample(text, 'cache_requests_total', { cache: 'http', result: 'miss' })).toBeGreaterThan(0);
      expect(sample(text, 'cache_evictions_total', { cache: 'http' })).toBeDefined();
      expect(sample(text, 'cache_errors_total', { cache: 'http' })).toBeDefined();
      expect(sample(text, 'rate_limit_rejections_total', { tier: 'sustained' })).toBeDefined();
      expect(sample(text, 'activity_writer_batch_size_count')).toBeGreaterThan(0);
      expect(sample(text, 'activity_writer_flush_duration_seconds_count')).toBeGreaterThan(0);
      expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeDefined();
      expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    });

    it('counts slow queries', async () => {
      const before = sample(await scrape(), 'db_slow_queries_total', { operation: 'select' }) ?? 0;
      await sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=1&delay=0.25', headers: admin.headers });

      expect(sample(await scrape(), 'db_slow_queries_total', { operation: 'select' })).toBe(before + 1);
    });
  });

  describe('/debug/pool-status and /debug/db-test', () => {
    it('reports the idle pool like QueuePool, overflow negative before it fills', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/debug/pool-status', headers: admin.headers });

      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ pool: 'primary', pool_size: 2, max_overflow: 2, max: 4, checked_out: 0, waiting: 0, replicas: [] });
      expect(body.overflow).toBe(body.total - 2);
      expect(body.status).toBe(`Pool size: 2  Connections in pool: ${body.checked_in} Current Overflow: ${body.overflow} Current Checked out connections: 0`);
    });

    it('holds connections past pool_size (overflow), never the reserve, and times out the tests past it', async () => {
      // Pool 2 + 2 overflow; the default reserve is a fifth of it, one connection: db-test holds 3.
      const running = sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=6&delay=0.6', headers: admin.headers });
      await new Promise((r) => setTimeout(r, 150));
      const during = (await sut.app.inject({ method: 'GET', url: '/debug/pool-status', headers: admin.headers })).json();
      const ready = await sut.app.inject({ method: 'GET', url: '/health/ready', headers: admin.headers });
      // The reserved connection serves the API meanwhile.
      const api = await sut.app.inject({ method: 'GET', url: `/api/projects?limit=1`, headers: user.headers });
      const res = await running;

      expect(during).toMatchObject({ checked_out: 3, overflow: 1 });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().details.database.pool).toMatchObject({ checked_out: 3, max: 4 });
      expect(api.statusCode).toBe(200);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.summary).toEqual({ succeeded: 3, failed: 3, timed_out: 3, pool_timeout_ms: 300, max_held: 3 });
      // The peak may include the API request's connection.
      expect(body.pool.peak.checked_out).toBeGreaterThanOrEqual(3);
      expect(body.pool.after.checked_out).toBe(0);
      const failed = body.results.filter((r: { ok: boolean }) => !r.ok);
      expect(failed.every((r: { acquire_wait_ms: number; error: string }) => r.acquire_wait_ms >= 290 && /no db-test slot within 300 ms/.test(r.error))).toBe(true);
      expect((await sut.app.inject({ method: 'GET', url: '/debug/pool-status', headers: admin.headers })).json().checked_out).toBe(0);
    });

    it('caps the connections of concurrent db-test calls together, not per call', async () => {
      const calls = [1, 2, 3].map(() => sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=3&delay=0.4', headers: admin.headers }));
      let peak = 0;
      const sampling = setInterval(() => (peak = Math.max(peak, sut.app.get(PoolObserver).snapshot().checked_out)), 5);
      const answers = await Promise.all(calls);
      clearInterval(sampling);

      expect(peak).toBe(3);
      // Nine tests of 0.4 s through three slots, each waiting at most 300 ms: three run at once,
      // the next three time out before a slot frees.
      const summaries = answers.map((r) => r.json().summary);
      expect(summaries.reduce((n, s) => n + s.succeeded, 0)).toBe(3);
      expect(summaries.reduce((n, s) => n + s.timed_out, 0)).toBe(6);
    });

    it.each([
      ['num_tests=0', /num_tests/],
      ['num_tests=101', /num_tests/],
      ['num_tests=abc', /num_tests/],
      ['delay=-1', /delay/],
      ['delay=31', /delay/],
      ['delay=5', /statement timeout/],
      ['extra=1', /extra/],
    ])('rejects %s with 400', async (query, message) => {
      const res = await sut.app.inject({ method: 'GET', url: `/debug/db-test?${query}`, headers: admin.headers });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
    });
  });

  describe('/debug/cache and /debug/config', () => {
    it('reports per-cache statistics', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/debug/cache', headers: admin.headers });

      expect(res.json()).toMatchObject({
        enabled: true,
        redis: { configured: false },
        caches: [{ cache: 'http' }, { cache: 'tokens' }, { cache: 'ownership' }],
        rate_limit: { local_keys: expect.any(Number), redis_fallbacks: 0 },
      });
    });

    it('flushes every cache on demand', async () => {
      const project = await createProject(sut.app, user);
      const url = `/api/projects/${project.id}`;
      await sut.app.inject({ method: 'GET', url, headers: user.headers });
      expect((await sut.app.inject({ method: 'GET', url, headers: user.headers })).headers['x-cache']).toBe('HIT');

      const res = await sut.app.inject({ method: 'POST', url: '/debug/cache/flush', headers: admin.headers });

      expect(res.statusCode).toBe(200);
      expect(res.json().caches[0].size).toBe(0);
      expect((await sut.app.inject({ method: 'GET', url, headers: user.headers })).headers['x-cache']).toBe('MISS');
    });

    it('shows the effective config without secrets', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/debug/config', headers: admin.headers });

      expect(res.statusCode).toBe(200);
      expect(res.json().pool).toMatchObject({ size: 2, maxOverflow: 2 });
      expect(res.body).not.toContain('scrape-secret');
      expect(res.body).not.toContain('test-cursor-secret');
      expect(res.json().metricsToken).toBe('***');
    });
  });

  describe('performance stats', () => {
    it('counts the requests made per route template and per named operation; reset clears them', async () => {
      await sut.app.inject({ method: 'POST', url: '/api/performance/reset', headers: admin.headers });
      const project = await createProject(sut.app, user);
      for (let i = 0; i < 4; i++) {
        await sut.app.inject({ method: 'GET', url: `/api/projects?limit=${i + 1}`, headers: user.headers });
      }
      await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });

      const res = await sut.app.inject({ method: 'GET', url: '/api/performance/metrics', headers: admin.headers });
      const body = res.json();

      expect(body.timestamp).toEqual(expect.any(String));
      expect(body.performance_metrics['GET /api/projects'].count).toBe(4);
      expect(body.performance_metrics['GET /api/projects/:id'].count).toBe(1);
      expect(body.performance_metrics['projects.list'].count).toBe(4);
      expect(body.performance_metrics['GET /api/projects']).toEqual({
        count: 4,
        total: expect.any(Number),
        min: expect.any(Number),
        max: expect.any(Number),
        avg: expect.any(Number),
        p50: expect.any(Number),
        p95: expect.any(Number),
        p99: expect.any(Number),
      });
      expect(body.cache).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number), hit_ratio: expect.any(Number) });
      expect(body.pool).toMatchObject({ pool_size: 2, max_overflow: 2 });

      const one = await sut.app.inject({ method: 'GET', url: `/api/performance/timing/${encodeURIComponent('GET /api/projects')}`, headers: admin.headers });
      expect(one.json()).toMatchObject({ operation: 'GET /api/projects', count: 4 });
      const unknown = await sut.app.inject({ method: 'GET', url: '/api/performance/timing/nope', headers: admin.headers });
      expect(unknown.statusCode).toBe(404);

      expect((await sut.app.inject({ method: 'POST', url: '/api/performance/reset', headers: admin.headers })).statusCode).toBe(204);
      const cleared = (await sut.app.inject({ method: 'GET', url: '/api/performance/metrics', headers: admin.headers })).json();
      expect(cleared.performance_metrics['GET /api/projects']).toBeUndefined();
    });
  });

  describe('access', () => {
    const adminRoutes: [string, string][] = [
      ['GET', '/debug/pool-status'],
      ['GET', '/debug/db-test?num_tests=1&delay=0'],
      ['GET', '/debug/cache'],
      ['GET', '/debug/config'],
      ['POST', '/debug/cache/flush'],
      ['GET', '/api/performance/metrics'],
      ['GET', '/api/performance/timing/x'],
      ['POST', '/api/performance/reset'],
    ];

    it.each(adminRoutes)('%s %s: 401 anonymous, 403 for users', async (method, url) => {
      const anonymous = await sut.app.inject({ method: method as 'GET', url });
      const asUser = await sut.app.inject({ method: method as 'GET', url, headers: user.headers });

      expect(anonymous.statusCode).toBe(401);
      expect(asUser.statusCode).toBe(403);
    });
  });
});

describe('debug routes disabled', () => {
  it('answers 404 with DEBUG_ROUTES_ENABLED=false, even to admins', async () => {
    const sut = await bootApp({ DEBUG_ROUTES_ENABLED: 'false' });
    try {
      const admin = await aUser(sut.app, { role: 'admin' });
      for (const url of ['/debug/pool-status', '/debug/db-test', '/debug/cache', '/debug/config']) {
        expect((await sut.app.inject({ method: 'GET', url, headers: admin.headers })).statusCode).toBe(404);
      }
      expect((await sut.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await sut.close();
    }
  });
});
