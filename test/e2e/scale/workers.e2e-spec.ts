import { randomUUID } from 'node:crypto';
import { until, waitFor } from '../../support/eventually';
import { createTestDatabase, dropTestDatabase } from '../../support/test-database';
import { freePort, ServerProcess } from '../../support/server-process';

// Runs against a real Redis when REDIS_URL is set (.ci/run sets it when a local Redis answers).
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) console.log('SKIPPED: the WORKERS=2 cases with Redis: REDIS_URL is not set');

const ADMIN = { email: 'ops@example.com', password: 'workers-test-1' };
const LOGIN_LIMIT = 8;

/** The same high limits as test-app's, but for logins: the one limit the suite measures. */
const BASE_ENV = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  WORKERS: '2',
  LOG_LEVEL: 'info',
  CURSOR_SECRET: 'test-cursor-secret-0123456789',
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  RATE_LIMIT_PER_SECOND: '1000000',
  RATE_LIMIT_PER_MINUTE: '10000000',
  RATE_LIMIT_ANON_PER_MINUTE: '1000000',
  RATE_LIMIT_LOGIN_PER_MINUTE: String(LOGIN_LIMIT),
  RATE_LIMIT_LOGIN_ACCOUNT_PER_MINUTE: '1000000',
  SHUTDOWN_TIMEOUT_MS: '10000',
};

/** A WORKERS=2 server process and what the tests need to talk to it and tell its workers apart. */
class Cluster {
  readonly server: ServerProcess;
  readonly base: string;
  adminToken = '';

  private constructor(port: number, env: Record<string, string>) {
    this.base = `http://127.0.0.1:${port}`;
    this.server = new ServerProcess({ ...BASE_ENV, ...env, PORT: String(port) });
  }

  static async start(env: Record<string, string>): Promise<Cluster> {
    const cluster = new Cluster(await freePort(), env);
    await cluster.server.waitFor(/listening on .* with 2 workers/, 90_000);
    const login = await cluster.call('POST', '/api/auth/login', '', ADMIN);
    cluster.adminToken = ((await login.json()) as { token: string }).token;
    return cluster;
  }

  /** One request on a connection of its own: node:cluster hands new connections out round-robin. */
  call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { connection: 'close' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  /** The pid of the worker that answered, from its access log line (the API names no worker). */
  async servedBy(res: Response): Promise<number> {
    const id = res.headers.get('x-request-id')!;
    const { value } = await waitFor(
      () => this.server.output.find((line) => line.includes(`"reqId":"${id}"`) && line.includes('request completed')),
      (line) => line !== undefined,
    );
    return (JSON.parse(value!) as { pid: number }).pid;
  }

  /** Calls until both workers have answered; every answer, with the pid that gave it. */
  async onBothWorkers(method: string, path: string, token: string, body?: unknown): Promise<{ res: Response; pid: number; json: unknown }[]> {
    const answers: { res: Response; pid: number; json: unknown }[] = [];
    for (let i = 0; i < 20 && new Set(answers.map((a) => a.pid)).size < 2; i++) {
      const res = await this.call(method, path, token, body);
      const json = res.status === 204 ? undefined : await res.json();
      answers.push({ res, pid: await this.servedBy(res), json });
    }
    expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
    return answers;
  }

  async aUserToken(): Promise<string> {
    const created = await this.call('POST', '/api/users', this.adminToken, { email: `${randomUUID()}@example.com`, password: 'correct horse battery', role: 'user' });
    const { id } = (await created.json()) as { id: string };
    return ((await (await this.call('POST', `/api/users/${id}/tokens`, this.adminToken)).json()) as { token: string }).token;
  }

  /** Prometheus text: every sample's value by its series (name and labels as written). */
  async scrape(): Promise<Map<string, number>> {
    const text = await (await this.call('GET', '/metrics', '')).text();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (match) samples.set(match[1], Number(match[2]));
    }
    return samples;
  }
}

const sum = (samples: Map<string, number>, name: string) =>
  [...samples].filter(([series]) => series.startsWith(`${name}{`)).reduce((n, [, v]) => n + v, 0);

/** The cases that must hold whichever bus carries them: the primary (no Redis) or Redis. */
function oneServiceCases(get: () => Cluster): void {
  it('invalidates a read cached on the other worker before the write is answered', async () => {
    const cluster = get();
    const token = await cluster.aUserToken();
    const project = (await (await cluster.call('POST', '/api/projects', token, { name: 'before' })).json()) as { id: string };
    const path = `/api/projects/${project.id}`;
    // Each worker reads it twice: its second answer is from its own L1.
    await cluster.onBothWorkers('GET', path, token);
    const cached = await cluster.onBothWorkers('GET', path, token);
    expect(cached.map((a) => a.res.headers.get('x-cache'))).toEqual(cached.map(() => 'HIT'));

    const write = await cluster.call('PATCH', path, token, { name: 'after' });
    expect(write.status).toBe(200);
    const writer = await cluster.servedBy(write);

    const reads = await cluster.onBothWorkers('GET', path, token);
    expect(reads.some((a) => a.pid !== writer)).toBe(true);
    expect(reads.map((a) => (a.json as { name: string }).name)).toEqual(reads.map(() => 'after'));
  });

  it('refuses a revoked token on every worker at once', async () => {
    const cluster = get();
    const token = await cluster.aUserToken();
    // Both workers have the token resolved in their tokens cache.
    expect((await cluster.onBothWorkers('GET', '/api/auth/me', token)).map((a) => a.res.status)).not.toContain(401);

    expect((await cluster.call('POST', '/api/auth/logout', token)).status).toBe(204);

    const after = await cluster.onBothWorkers('GET', '/api/auth/me', token);
    expect(after.map((a) => a.res.status)).toEqual(after.map(() => 401));
  });

  it('enforces one login limit across the workers, not one per worker', async () => {
    const cluster = get();
    const answers: { status: number; pid: number }[] = [];
    for (let i = 0; i < 3 * LOGIN_LIMIT; i++) {
      const res = await cluster.call('POST', '/api/auth/login', '', { email: ADMIN.email, password: 'wrong password' });
      await res.body?.cancel();
      answers.push({ status: res.status, pid: await cluster.servedBy(res) });
    }
    const refused = answers.filter((a) => a.status === 429);
    // One limit for the address: the admin's login at start counted, then LOGIN_LIMIT - 1 guesses.
    // Per-worker counters would have let through up to twice that.
    expect(answers.length - refused.length).toBe(LOGIN_LIMIT - 1);
    expect(new Set(refused.map((a) => a.pid)).size).toBe(2);
  });
}

describe('WORKERS=2 without Redis: the cluster primary is the bus (server process, real PostgreSQL)', () => {
  let url: string;
  let cluster: Cluster;

  beforeAll(async () => {
    url = await createTestDatabase();
    cluster = await Cluster.start({ DATABASE_URL: url });
  }, 120_000);

  afterAll(async () => {
    cluster?.server.kill();
    await dropTestDatabase(url);
  });

  oneServiceCases(() => cluster);

  it('reports the whole group on /metrics: counters summed, pool gauges per worker and summed', async () => {
    const path = '/health/live';
    const before = await cluster.scrape();
    const key = 'http_request_duration_seconds_count{method="GET",route="/health/live",status_code="200"}';
    const answers = await cluster.onBothWorkers('GET', path, '');

    const after = await cluster.scrape();
    expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(answers.length);
    const pool = (worker?: string) => after.get(`db_pool_connections{pool="primary"${worker ? `,worker="${worker}"` : ''}}`);
    expect(pool('1')).toBeGreaterThan(0);
    expect(pool('2')).toBeGreaterThan(0);
    expect(pool()).toBe(pool('1')! + pool('2')!);
  });

  it('answers a scraper asking for OpenMetrics in the Prometheus format: the group aggregate has no exemplars to show', async () => {
    const res = await fetch(`${cluster.base}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5', connection: 'close' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).not.toContain('# EOF');
  });

  it('reports the group in the performance stats: request counts summed over the workers, reset on all', async () => {
    const token = await cluster.aUserToken();
    const count = async () => {
      const res = await cluster.call('GET', '/api/performance/metrics', cluster.adminToken);
      return ((await res.json()) as { performance_metrics: Record<string, { count: number } | undefined> }).performance_metrics['GET /api/auth/me']?.count ?? 0;
    };
    const before = await count();

    const answers = await cluster.onBothWorkers('GET', '/api/auth/me', token);

    expect((await count()) - before).toBe(answers.length);
    expect((await cluster.call('POST', '/api/performance/reset', cluster.adminToken)).status).toBe(204);
    expect(await count()).toBe(0);
  });

  it('restarts a killed worker (logged) and its counters stay in the totals', async () => {
    for (let i = 0; i < 10; i++) await (await cluster.call('GET', '/health/live', '')).body?.cancel();
    const before = await cluster.scrape();
    const started = [...cluster.server.output.join('\n').matchAll(/worker (\d) started \(pid (\d+)\)/g)];
    const [, slot, pid] = started[started.length - 1];

    process.kill(Number(pid), 'SIGKILL');
    await cluster.server.waitFor(new RegExp(`worker ${slot} \\(pid ${pid}\\) exited \\(SIGKILL\\): restarting in \\d+ ms`));
    await cluster.server.waitFor(new RegExp(`worker ${slot} started \\(pid (?!${pid}\\))\\d+\\)`), 60_000);
    await until(async () => (await cluster.scrape()).has(`db_pool_connections{pool="primary",worker="${slot}"}`), 60_000);

    const after = await cluster.scrape();
    for (const name of ['http_request_duration_seconds_count', 'db_query_duration_seconds_count', 'cache_requests_total']) {
      expect(sum(after, name)).toBeGreaterThanOrEqual(sum(before, name));
    }
    // Sums of seconds are floats, added up in another order after the restart.
    expect(sum(after, 'http_request_duration_seconds_sum')).toBeGreaterThanOrEqual(sum(before, 'http_request_duration_seconds_sum') - 1e-9);
    const live = 'http_request_duration_seconds_count{method="GET",route="/health/live",status_code="200"}';
    expect(after.get(live)).toBeGreaterThanOrEqual(before.get(live)!);
  }, 120_000);

  it('drains an in-flight request on SIGTERM to the primary, then every process exits 0', async () => {
    const slow = cluster.call('GET', '/debug/db-test?num_tests=1&delay=1.5', cluster.adminToken);
    await new Promise((r) => setTimeout(r, 500));

    const stopping = cluster.server.stop('SIGTERM', 30_000);
    const res = await slow;
    const { code } = await stopping;

    expect(res.status).toBe(200);
    expect(code).toBe(0);
    expect(cluster.server.output.filter((line) => line.includes('"msg":"shutdown complete"')).length).toBe(3);
  }, 60_000);
});

(redisUrl ? describe : describe.skip)('WORKERS=2 with Redis: Redis is the bus (server process, real PostgreSQL and Redis)', () => {
  let url: string;
  let cluster: Cluster;

  beforeAll(async () => {
    url = await createTestDatabase();
    cluster = await Cluster.start({ DATABASE_URL: url, REDIS_URL: redisUrl!, CACHE_NAMESPACE: `wk${randomUUID().slice(0, 8)}` });
  }, 120_000);

  afterAll(async () => {
    await cluster?.server.stop('SIGTERM');
    await dropTestDatabase(url);
  });

  oneServiceCases(() => cluster);
});
