import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Set by the global setup: a server URL whose database holds the migrated template. */
export const TEMPLATE_DATABASE = 'app_test_template';

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_SERVER_URL;
  if (!url) throw new Error('TEST_DATABASE_SERVER_URL is unset: run the tests through jest (global setup)');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(serverUrl(), 'postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database cloned from the migrated template: each test file gets its own, so files run
 * in parallel without seeing each other's rows, on the one PostgreSQL server of the run.
 */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(async (client) => {
    // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template,
    // which happens when two workers clone at the same moment: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
        return;
      } catch (err) {
        if (attempt >= 20 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  return withDatabase(serverUrl(), name);
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Makes the database refuse new connections and drops the open ones: the server, as the app sees it, is gone. */
export async function cutDatabase(url: string, cut: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin(async (client) => {
    await client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${cut ? 'false' : 'true'}`);
    if (cut) await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  });
}
