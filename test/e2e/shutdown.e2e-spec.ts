import { Agent, request } from 'node:http';
import { Client } from 'pg';
import { recordFigure } from '../support/figures';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';
import { freePort, ServerProcess } from '../support/server-process';

/** The built server as a real process: SIGTERM under write load, and a database missing at start. */
describe('shutdown (server process, real PostgreSQL)', () => {
  let url: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    url = await createTestDatabase();
  });

  afterAll(async () => {
    server?.kill();
    await dropTestDatabase(url);
  });

  it('turns readiness 503 at once, finishes in-flight writes, flushes the writer and loses no acknowledged row', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = new ServerProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'shutdown-test-1',
      SHUTDOWN_GRACE_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '8000',
      ACTIVITY_BATCH_WAIT_MS: '20',
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_PER_MINUTE: '10000000',
    });
    await server.waitFor(/listening on/);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: 'shutdown-test-1' }),
    });
    const { token } = (await login.json()) as { token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' };
    const project = (await (await fetch(`${base}/api/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'load' }) })).json()) as { id: string };

    const acked: string[] = [];
    const statuses = new Map<number, number>();
    const failures = new Map<string, number>();
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${base}/api/projects/${project.id}/activities`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ agent: 'load', action: 'write' }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 201) acked.push(((await res.json()) as { id: string }).id);
          else await res.body?.cancel();
        } catch (err) {
          const code = String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
          failures.set(code, (failures.get(code) ?? 0) + 1);
          if (code === 'ECONNREFUSED') return;
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 800));

    const stopping = server.stop('SIGTERM');
    // During the grace period the server still answers, and readiness says it is going away.
    let readiness = 0;
    for (let i = 0; i < 40 && readiness !== 503; i++) {
      readiness = await fetch(`${base}/health/ready`, { headers: { connection: 'close' } }).then((r) => r.status, () => 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { code, ms } = await stopping;
    stop = true;
    await Promise.all(workers);

    expect(readiness).toBe(503);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8000);
    expect(acked.length).toBeGreaterThan(50);
    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query<{ id: string }>('SELECT id::text AS id FROM agent_activities WHERE project_id = $1', [project.id]);
    await db.end();
    const stored = new Set(rows.map((r) => r.id));
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    // Nothing was written without being acknowledged either: no response was lost mid-way.
    expect(rows.length).toBe(acked.length);
    recordFigure('SIGTERM under load: exit after', ms, 'ms');
    recordFigure('SIGTERM under load: acknowledged writes / rows stored', `${acked.length} / ${rows.length}`);
    recordFigure('SIGTERM under load: answers', JSON.stringify(Object.fromEntries(statuses)));
    recordFigure('SIGTERM under load: client-side connection errors', JSON.stringify(Object.fromEntries(failures)));
    expect([...statuses.keys()].every((s) => s === 201 || s === 503)).toBe(true);
  }, 60_000);

  // A proxy (nginx's upstream keepalive) holds its connections open between requests. One that
  // was busy when the drain began and idle after must be closed then, not held until
  // SHUTDOWN_DRAIN_MS cuts every connection.
  it('closes a connection as soon as its last in-flight answer is sent', async () => {
    const port = await freePort();
    server = new ServerProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'shutdown-test-1',
      SHUTDOWN_GRACE_MS: '200',
      SHUTDOWN_DRAIN_MS: '20000',
      SHUTDOWN_TIMEOUT_MS: '25000',
      LOG_LEVEL: 'info',
    });
    await server.waitFor(/listening on/);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, token?: string, body?: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const login = await call('POST', '/api/auth/login', undefined, { email: 'ops@example.com', password: 'shutdown-test-1' });
    const { token } = JSON.parse(login.body) as { token: string };
    let socketClosed = false;
    agent.on('free', (socket) => socket.once('close', () => (socketClosed = true)));

    const inFlight = call('GET', '/debug/db-test?num_tests=1&delay=1', token);
    await new Promise((r) => setTimeout(r, 100));
    const stopping = server.stop('SIGTERM', 30_000);
    expect((await inFlight).status).toBe(200);
    const { code } = await stopping;
    agent.destroy();

    expect(code).toBe(0);
    expect(socketClosed).toBe(true);
    expect(server.output.filter((line) => line.includes('still open after SHUTDOWN_DRAIN_MS'))).toEqual([]);
  }, 60_000);
});

describe('database unreachable at start-up (server process)', () => {
  it('answers 503 while it retries with backoff, logs each attempt, then exits non-zero', async () => {
    const port = await freePort();
    const deadPort = await freePort();
    const server = new ServerProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://nobody:x@127.0.0.1:${deadPort}/none`,
      DB_CONNECT_RETRIES: '3',
    });
    try {
      await server.waitFor(/attempt 1 of 3/);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      const live = await fetch(`http://127.0.0.1:${port}/health/live`);

      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { message: string }).message).toMatch(/waiting for the database/);
      expect(live.status).toBe(200);
      expect(await server.wait()).toBe(1);
      const text = server.output.join('\n');
      expect(text).toMatch(/attempt 2 of 3/);
      expect(text).toMatch(/attempt 3 of 3/);
      expect(text).toMatch(/start-up failed/);
    } finally {
      server.kill();
    }
  }, 30_000);
});
