import { Client } from 'pg';
import { recordFigure } from '../../support/figures';
import { slowClient } from '../../support/raw-client';
import { freePort, ServerProcess } from '../../support/server-process';
import { createTestDatabase, dropTestDatabase } from '../../support/test-database';

const ADMIN = { email: 'slow-admin@example.com', password: 'slow-admin-password' };

async function start(url: string, env: Record<string, string>): Promise<{ server: ServerProcess; port: number; token: string }> {
  const port = await freePort();
  const server = new ServerProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  });
  await server.waitFor(/listening on/);
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  return { server, port, token: ((await res.json()) as { token: string }).token };
}

const bodyHead = (token: string, length: number) =>
  `POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

/** Clients that send slowly, against the built server process: none may hold a connection or the shutdown. */
describe('hostile clients: slow senders (server process, real PostgreSQL)', () => {
  let url: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    url = await createTestDatabase();
  });

  afterAll(async () => {
    servers.forEach((s) => s.kill());
    await dropTestDatabase(url);
  });

  it('answers 408 and closes a connection whose body or headers trickle in past their timeouts', async () => {
    const { server, port, token } = await start(url, { REQUEST_TIMEOUT_MS: '3000', HEADERS_TIMEOUT_MS: '2000' });
    servers.push(server);

    // A body of 100 bytes sent one byte a second; headers sent one byte every half second.
    const [body, headers] = await Promise.all([
      slowClient(port, bodyHead(token, 100), '{"name":"' + 'x'.repeat(90), 1_000),
      slowClient(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\n', 'X-Slow: ' + 'y'.repeat(100), 500),
    ]);
    recordFigure('body trickled at 1 byte/s (REQUEST_TIMEOUT_MS=3000): connection closed after', Math.round(body.closedAfterMs), 'ms');
    recordFigure('headers trickled at 2 bytes/s (HEADERS_TIMEOUT_MS=2000): connection closed after', Math.round(headers.closedAfterMs), 'ms');

    expect(body.firstLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(body.closedAfterMs).toBeGreaterThanOrEqual(2_900);
    // The deadline is checked every second.
    expect(body.closedAfterMs).toBeLessThan(3_000 + 1_500);
    expect(headers.firstLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(headers.closedAfterMs).toBeLessThan(2_000 + 1_500);
  }, 30_000);

  it('on SIGTERM with a slow client attached, destroys it after SHUTDOWN_DRAIN_MS, then flushes and exits 0 losing nothing acknowledged', async () => {
    const { server, port, token } = await start(url, { SHUTDOWN_DRAIN_MS: '1000', SHUTDOWN_TIMEOUT_MS: '6000', ACTIVITY_BATCH_WAIT_MS: '20' });
    servers.push(server);
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const project = (await (await fetch(`${base}/api/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'kept' }) })).json()) as { id: string };

    // Still sending its body, one byte every two seconds, when the signal comes.
    const slow = slowClient(port, bodyHead(token, 1_000), 'z'.repeat(1_000), 2_000);
    const acked: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        try {
          const res = await fetch(`${base}/api/projects/${project.id}/activities`, { method: 'POST', headers, body: JSON.stringify({ agent: 'a', action: 'write' }) });
          if (res.status === 201) acked.push(((await res.json()) as { id: string }).id);
          else await res.arrayBuffer();
        } catch {
          return;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));

    const stopped = await server.stop('SIGTERM');
    writing = false;
    await writer;
    const closed = await slow;
    recordFigure('SIGTERM with a slow client attached (SHUTDOWN_DRAIN_MS=1000): exited after', stopped.ms, 'ms');

    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(6_000);
    expect(server.output.some((line) => line.includes('closing them'))).toBe(true);
    expect(server.output.some((line) => line.includes('shutdown complete'))).toBe(true);
    expect(closed.closedAfterMs).toBeLessThan(10_000);
    expect(acked.length).toBeGreaterThan(0);
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT id::text FROM agent_activities WHERE id = ANY($1::bigint[])', [acked]);
      expect(rows).toHaveLength(acked.length);
    } finally {
      await db.end();
    }
  }, 30_000);
});
