import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EmbeddedPostgres } from './embedded-postgres';
import { EmbeddedPostgresSetupError } from './embedded-postgres.errors';
import { migrate } from './migrate';

/** `npm run migration:run` / `migration:revert`, on DATABASE_URL or the embedded database. */
async function main(): Promise<void> {
  const direction = process.argv[2] === 'revert' ? 'revert' : 'run';
  const config = AppConfig.fromEnv(process.env);
  const embedded = config.databaseUrl ? undefined : new EmbeddedPostgres(config.embeddedPg);
  const url = config.databaseUrl ?? (await embedded!.start()).appUrl;
  try {
    const applied = await migrate(config, url, direction);
    new Logger('Migrations').log(direction === 'revert' ? 'reverted the last migration' : `${applied.length} migration(s) applied`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof EmbeddedPostgresSetupError ? 2 : 1);
});
