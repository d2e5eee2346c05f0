import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppConfig } from '../../src/config/app-config';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { migrate } from '../../src/database/migrate';
import { TEMPLATE_DATABASE, withDatabase } from './test-database';

declare global {
  var __TEST_POSTGRES__: { postgres: EmbeddedPostgres; dir: string } | undefined;
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL's server when given, otherwise an embedded one
 * in a throw-away folder. Migrations run once into a template database that every test file clones.
 */
export default async function globalSetup(): Promise<void> {
  let server = process.env.DATABASE_URL;
  if (!server) {
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    const dir = mkdtempSync(join(process.cwd(), '.data', 'test-postgres-'));
    // mkdtemp makes it 0700; PostgreSQL runs as its own user when we are root and must get in.
    chmodSync(dir, 0o755);
    const port = Number(process.env.TEST_PG_PORT ?? 54330 + (process.pid % 1000));
    const postgres = new EmbeddedPostgres({ dir: join(dir, 'pg'), port });
    // The superuser: each test file clones the template with CREATE DATABASE ... TEMPLATE.
    server = (await postgres.start()).superuserUrl;
    globalThis.__TEST_POSTGRES__ = { postgres, dir };
  }
  process.env.TEST_DATABASE_SERVER_URL = server;

  const client = new Client({ connectionString: withDatabase(server, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await client.end();
  }
  const config = AppConfig.fromEnv({});
  await migrate(config, withDatabase(server, TEMPLATE_DATABASE));
}
