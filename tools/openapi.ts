import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { createApp } from '../src/app.factory';
import { AppConfig } from '../src/config/app-config';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { migrate } from '../src/database/migrate';

/** Where the committed document lives; test/e2e/openapi.e2e-spec.ts checks it against the code. */
export const OPENAPI_FILE = resolve(__dirname, '../../docs/openapi.json');

/**
 * Writes the OpenAPI document the code generates to docs/openapi.json. The app builds its document
 * from the booted routes (their access, rate-limit and cache policies decide the shared answers), so
 * this boots the app on DATABASE_URL or on an embedded PostgreSQL of its own under .data/.
 */
async function main(): Promise<void> {
  const base = AppConfig.fromEnv({ ...process.env, LOG_LEVEL: 'warn' });
  const embedded = base.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ dir: resolve('.data/openapi-postgres'), port: base.embeddedPg.port + 2 });
  try {
    const url = base.databaseUrl ?? (await embedded!.start()).appUrl;
    const config = base.withDatabaseUrl(url);
    await migrate(config, url);
    const app = await createApp(config, pino({ level: 'warn' }));
    const res = await app.inject({ method: 'GET', url: '/docs-json' });
    await app.close();
    if (res.statusCode !== 200) throw new Error(`GET /docs-json answered ${res.statusCode}`);
    writeFileSync(OPENAPI_FILE, `${JSON.stringify(res.json(), null, 2)}\n`);
    console.log(`wrote ${OPENAPI_FILE}`);
  } finally {
    await embedded?.stop();
  }
}

if (require.main === module) void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
