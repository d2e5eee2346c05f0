import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { embeddedUrl, readEmbeddedCredentials } from '../support/embedded-credentials';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';
import { freePort, ServerProcess } from '../support/server-process';

/** The server as users run it: `npm start` with no configuration, signals, bad configuration. */
describe('server process', () => {
  const servers: ServerProcess[] = [];

  afterEach(() => {
    servers.splice(0).forEach((s) => s.kill());
  });

  function start(env: Record<string, string>): ServerProcess {
    const server = new ServerProcess(env);
    servers.push(server);
    return server;
  }

  it('starts on an embedded PostgreSQL with no configuration, keeps its data, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(process.cwd(), '.data', 'zero-config-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as its own user when the tests run as root
    const pgDir = join(dir, 'postgres');
    const pgPort = await freePort();
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort) };
    try {
      const first = start(env);
      await first.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+ \(database: embedded PostgreSQL\)/);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      const appUrl = embeddedUrl(readEmbeddedCredentials(pgDir).app, pgPort, 'app');
      const client = new Client({ connectionString: appUrl });
      await client.connect();
      await client.query(`INSERT INTO users (email, password_hash) VALUES ('kept@example.com', 'x')`);
      await client.end();

      const stopped = await first.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(10_000);
      expect(first.output.some((l) => l.includes('shutdown complete'))).toBe(true);
      expect(existsSync(join(pgDir, 'postmaster.pid'))).toBe(false);

      const second = start(env);
      await second.waitFor(/listening on/);
      const again = new Client({ connectionString: appUrl });
      await again.connect();
      const { rows } = await again.query(`SELECT email FROM users WHERE email = 'kept@example.com'`);
      await again.end();
      expect(rows).toHaveLength(1);
      expect((await second.stop('SIGINT')).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('uses DATABASE_URL when given and starts no embedded database', async () => {
    const url = await createTestDatabase();
    const port = await freePort();
    try {
      const server = start({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: url });
      await server.waitFor(/listening on .*\(database: DATABASE_URL\)/);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      expect(server.output.some((l) => l.includes('embedded PostgreSQL'))).toBe(false);
      // Node 20 is accepted past its end of life, and says so; Node 22 and 24 start silently.
      const eolWarning = server.output.some((l) => l.includes('past its end of life') && l.includes('Node.js 24 LTS'));
      expect(eolWarning).toBe(Number(process.versions.node.split('.')[0]) < 22);
      expect((await server.stop()).code).toBe(0);
    } finally {
      await dropTestDatabase(url);
    }
  }, 30_000);

  it('refuses to start on bad configuration, naming the variable', async () => {
    const server = start({ PORT: 'eighty', DB_POOL_TIMEOUT_MS: '-5' });

    expect(await server.wait()).toBe(2);
    const text = server.output.join('\n');
    expect(text).toContain('PORT must be an integer between 0 and 65535 (got "eighty")');
    expect(text).toContain('DB_POOL_TIMEOUT_MS must be an integer between 1 and 600000 (got "-5")');
  });
});
