import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { EmbeddedPostgresSetupError } from './database/embedded-postgres.errors';
import { migrate } from './database/migrate';
import { generateMigration } from './database/migration-generate';
import { ENTITIES } from './entities';

/**
 * `npm run migration:run` / `migration:revert` / `migration:generate -- <Name>`, on DATABASE_URL or
 * the embedded database. Exit codes: 1 on an error or, for generate, when there is nothing to
 * generate (as TypeORM's own CLI does); 2 when the embedded database cannot be set up.
 */
async function main(): Promise<void> {
  const [command = 'run', name] = process.argv.slice(2);
  if (!['run', 'revert', 'generate'].includes(command)) throw new Error(`unknown command "${command}": use run, revert or generate <Name>`);
  if (command === 'generate' && !name) throw new Error('usage: npm run migration:generate -- <Name>, e.g. AddProjectTags');
  const logger = new Logger('Migrations');
  const config = AppConfig.fromEnv(process.env);
  const embedded = config.databaseUrl ? undefined : new EmbeddedPostgres(config.embeddedPg);
  const url = config.databaseUrl ?? (await embedded!.start()).appUrl;
  try {
    if (command === 'generate') {
      // npm runs scripts from the package's folder, where migrations/ is.
      const generated = await generateMigration(config, url, name, join(process.cwd(), 'migrations'), ENTITIES);
      if (!generated) {
        logger.warn('the entities and the database agree: nothing to generate');
        process.exitCode = 1;
        return;
      }
      logger.log(`wrote ${generated.file} and added it to migrations/index.ts: review it, then npm run migration:run`);
      for (const sql of generated.destructive) logger.warn(`drops data, keep it only if that is meant (a type change wants ALTER COLUMN ... TYPE): ${sql}`);
      return;
    }
    const applied = await migrate(config, url, command === 'revert' ? 'revert' : 'run');
    logger.log(command === 'revert' ? 'reverted the last migration' : `${applied.length} migration(s) applied`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof EmbeddedPostgresSetupError ? 2 : 1);
});
