import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { startStack, Stack, stackMissing } from '../../../tools/stack/stack';
import { checkAfterTest } from '../../support/contract';
import { until, waitFor } from '../../support/eventually';
import { createTestDatabase, dropTestDatabase } from '../../support/test-database';

// Real nginx (Debian's), a real redis-server started by the stack, two real instances of
// dist-dev/src/main.js. PostgreSQL: a database cloned from the run's template (createTestDatabase)
// rather than the stack's own Debian server, to keep the file fast; `npm run stack:local` runs that one.
const missing = stackMissing();
if (missing) console.log(`SKIPPED: nginx e2e: ${missing}`);
const describeWithStack = missing ? describe.skip : describe;

const MAIN = join(__dirname, '..', '..', '..', 'dist-dev', 'src', 'main.js');
const ANON_LIMIT = 10;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface CallOptions {
  readonly method?: string;
  readonly token?: string;
  readonly json?: unknown;
  readonly headers?: Record<string, string>;
  /** The client's own address (any 127.x address is local): clients nginx tells apart. */
  readonly from?: string;
  /** Checked against docs/openapi.json after the test; off for answers nginx itself may give (502). */
  readonly contract?: boolean;
}

/** One request on a new connection from `from`: fetch cannot choose its source address. */
function call(base: string, path: string, { method = 'GET', token, json, headers = {}, from = '127.0.0.1', contract = true }: CallOptions = {}): Promise<Answer> {
  const body = json === undefined ? undefined : JSON.stringify(json);
  const all = { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers: all, localAddress: from, agent: false, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const answer = { status: res.statusCode ?? 0, headers: res.headers, body: text };
        if (contract) checkAfterTest({ method, url: base + path, statusCode: answer.status, headers: answer.headers, body: text });
        resolve(answer);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Requests an instance has answered on `route` (any method and status), from its own /metrics. */
async function answered(instanceUrl: string, route: string): Promise<number> {
  const text = (await call(instanceUrl, '/metrics')).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('http_request_duration_seconds_count{') && line.includes(`route="${route}"`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describeWithStack('two instances behind nginx (real nginx, Redis and PostgreSQL)', () => {
  let stack: Stack;
  let dir: string;
  let databaseUrl: string;
  let user: { id: string; token: string };
  const through = (path: string, options?: CallOptions) => call(stack.url, path, options);
  const on = (i: number, path: string, options?: CallOptions) => call(stack.instances[i].url, path, options);
  const perInstance = (route: string) => Promise.all(stack.instances.map((i) => answered(i.url, route)));
  const login = async (email: string, password: string, from: string) => {
    const res = await through('/api/auth/login', { method: 'POST', json: { email, password }, from });
    expect(res.status).toBe(201);
    return JSON.parse(res.body) as { token: string; user: { id: string } };
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    dir = mkdtempSync(join(process.cwd(), '.data', 'nginx-e2e-'));
    stack = await startStack({
      dir,
      appMain: MAIN,
      databaseUrl,
      env: {
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ANON_PER_MINUTE: String(ANON_LIMIT),
        RATE_LIMIT_PER_SECOND: '1000000',
        RATE_LIMIT_PER_MINUTE: '10000000',
        RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
      },
    });
    const admin = await login(stack.admin.email, stack.admin.password, '127.0.0.10');
    const email = 'scaled@example.com';
    const created = await through('/api/users', { method: 'POST', token: admin.token, json: { email, password: 'scaled-password-1' }, from: '127.0.0.10' });
    expect(created.status).toBe(201);
    const session = await login(email, 'scaled-password-1', '127.0.0.10');
    user = { id: session.user.id, token: session.token };
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('spreads requests over both instances (least_conn), as each instance’s /metrics counts them', async () => {
    const before = await perInstance('/api/auth/me');
    for (let i = 0; i < 20; i++) expect((await through('/api/auth/me', { token: user.token, from: '127.0.0.11' })).status).toBe(200);
    const after = await perInstance('/api/auth/me');

    const served = after.map((n, i) => n - before[i]);
    expect(served[0] + served[1]).toBe(20);
    // One request at a time: least_conn ties, and nginx then takes the instances in turn.
    expect(Math.min(...served)).toBeGreaterThanOrEqual(5);
  });

  it('passes the client’s X-Request-Id to the instance, or one nginx made, which its log names too', async () => {
    const given = await through('/health/live', { headers: { 'x-request-id': 'client-chosen-id.1' }, from: '127.0.0.12' });
    const made = await through('/health/live', { from: '127.0.0.12' });

    expect(given.headers['x-request-id']).toBe('client-chosen-id.1');
    // nginx's $request_id (32 hex digits), not a UUID the instance would make for a request without one.
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    await until(() => readFileSync(stack.accessLog, 'utf8').includes(`id=${String(made.headers['x-request-id'])}`), 2_000);
  });

  it('passes a body up to the app’s limit (buffered by nginx, as its worker user) and refuses a larger one itself', async () => {
    const from = '127.0.0.13';
    const created = await through('/api/projects', { method: 'POST', token: user.token, json: { name: 'bodies' }, from });
    const { id } = JSON.parse(created.body) as { id: string };
    const file = await through(`/api/projects/${id}/files`, { method: 'POST', token: user.token, json: { path: 'big.txt', content: 'x'.repeat(1024 * 1024) }, from });
    const tooLarge = await through(`/api/projects/${id}/files`, { method: 'POST', token: user.token, json: { path: 'huge.txt', content: 'x'.repeat(8 * 1024 * 1024) }, from, contract: false });

    expect(file.status).toBe(201);
    expect(stack.nginx.output.join('\n')).toMatch(/client request body is buffered to a temporary file/);
    // nginx's own 413 (client_max_body_size = BODY_LIMIT_BYTES): the instance never reads the body.
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.server).toMatch(/^nginx/);
    expect(tooLarge.headers['x-request-id']).toBeUndefined();
  });

  it('counts a client by the address nginx reports, whatever X-Forwarded-For it sends, in one limit across instances', async () => {
    const before = await perInstance('/api/projects');
    const statuses: number[] = [];
    for (let i = 0; i < ANON_LIMIT + 6; i++) {
      // A client rotating a made-up X-Forwarded-For would get a fresh limit per value if it were believed.
      statuses.push((await through('/api/projects', { from: '127.0.0.21', headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status);
    }
    const after = await perInstance('/api/projects');
    const other = await through('/api/projects', { from: '127.0.0.22' });

    expect(statuses).toEqual([...Array<number>(ANON_LIMIT).fill(401), ...Array<number>(6).fill(429)]);
    // Both instances counted in the one limit (Redis), neither one allowed ANON_LIMIT by itself.
    expect(after.map((n, i) => n - before[i]).every((n) => n > 0)).toBe(true);
    // Another client has its own limit: the key is not nginx's address, shared by everyone.
    expect(other.status).toBe(401);
  });

  it('reads back on one instance, at once, what was written on the other (cache invalidated through Redis)', async () => {
    const from = '127.0.0.31';
    const created = await through('/api/projects', { method: 'POST', token: user.token, json: { name: 'v1' }, from });
    expect(created.status).toBe(201);
    const { id } = JSON.parse(created.body) as { id: string };
    // Both instances hold the project in their L1.
    for (const i of [0, 1]) {
      await on(i, `/api/projects/${id}`, { token: user.token, from });
      expect((await on(i, `/api/projects/${id}`, { token: user.token, from })).headers['x-cache']).toBe('HIT');
    }

    expect((await on(0, `/api/projects/${id}`, { method: 'PATCH', token: user.token, json: { name: 'v2' }, from })).status).toBe(200);

    const nameOn = async (i: number) => (JSON.parse((await on(i, `/api/projects/${id}`, { token: user.token, from })).body) as { name: string }).name;
    // The invalidation is published before the PATCH is answered and arrives within milliseconds.
    const { ms } = await waitFor(() => nameOn(1), (name) => name === 'v2', 1_000);
    expect(ms).toBeLessThan(1_000);
    for (let i = 0; i < 6; i++) expect(JSON.parse((await through(`/api/projects/${id}`, { token: user.token, from })).body).name).toBe('v2');
  });

  it('refuses on both instances a token revoked on one', async () => {
    const from = '127.0.0.41';
    const { token } = await login('scaled@example.com', 'scaled-password-1', from);
    for (const i of [0, 1]) expect((await on(i, '/api/auth/me', { token, from })).status).toBe(200);

    expect((await on(0, '/api/auth/logout', { method: 'POST', token, from })).status).toBe(204);

    await until(async () => (await on(1, '/api/auth/me', { token, from })).status === 401, 1_000);
    expect((await on(0, '/api/auth/me', { token, from })).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await through('/api/auth/me', { token, from })).status).toBe(401);
  });

  it('stops one instance under load losing nothing but non-idempotent requests in flight on it; every 2xx write is stored', async () => {
    const from = '127.0.0.51';
    const created = await through('/api/projects', { method: 'POST', token: user.token, json: { name: 'under load' }, from });
    const { id } = JSON.parse(created.body) as { id: string };
    const results: { method: string; status: number; at: number }[] = [];
    let running = true;
    const CLIENTS = 8;
    // Closed loops: each client has at most one request in flight, so at most CLIENTS are when the
    // instance stops. Half read (GET, retried by nginx), half write (POST, not retried once sent).
    const client = async (n: number) => {
      for (let k = 0; running; k++) {
        const write = (n + k) % 2 === 0;
        const options: CallOptions = write
          ? { method: 'POST', token: user.token, json: { agent: 'scale', action: 'load.step', payload: { n, k } }, from, contract: false }
          : { token: user.token, from, contract: false };
        const res = await through(write ? `/api/projects/${id}/activities` : `/api/projects/${id}`, options).catch(() => ({ status: 0 }));
        results.push({ method: write ? 'POST' : 'GET', status: res.status, at: Date.now() });
      }
    };
    const loops = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await until(() => results.length >= 200, 20_000);
    const stopping = stack.instances[1].child.stop('SIGTERM', 20_000);
    const exit = await stopping;
    const exitedAt = Date.now();
    await until(() => results.filter((r) => r.at > exitedAt).length >= 100, 20_000);
    running = false;
    await Promise.all(loops);

    const failed = results.filter((r) => r.status < 200 || r.status > 299);
    const stored = await activityRows(databaseUrl, id);
    const written = results.filter((r) => r.method === 'POST' && r.status >= 200 && r.status <= 299).length;

    expect(exit).toMatchObject({ code: 0, killed: false });
    // Every GET that met the stopping instance was retried on the other one by nginx.
    expect(failed.filter((r) => r.method === 'GET')).toEqual([]);
    // A POST already sent to the stopping instance is not retried (it may have been applied): at
    // most one per client, answered by the instance (503) or by nginx (502), never a timeout.
    expect(failed.length).toBeLessThanOrEqual(CLIENTS);
    expect(failed.every((r) => r.status === 502 || r.status === 503)).toBe(true);
    // Nothing acknowledged is lost; a refused write may or may not have been applied.
    expect(stored).toBeGreaterThanOrEqual(written);
    expect(stored).toBeLessThanOrEqual(written + failed.length);
    // Once the instance is gone the other serves everything.
    expect(results.filter((r) => r.at > exitedAt + 100).every((r) => r.status >= 200 && r.status <= 299)).toBe(true);
  }, 90_000);
});

async function activityRows(databaseUrl: string, projectId: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM agent_activities WHERE project_id = $1', [projectId])).rows[0].n);
  } finally {
    await client.end();
  }
}
