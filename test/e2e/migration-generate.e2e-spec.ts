import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, MigrationInterface } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source';
import { migrate } from '../../src/database/migrate';
import { generateMigration, PendingMigrationsError } from '../../src/database/migration-generate';
import { ENTITIES } from '../../src/entities';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';

const config = AppConfig.fromEnv({ LOG_LEVEL: 'silent' });

async function pendingQueries(dataSource: DataSource): Promise<string[]> {
  return (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
}

describe('migration:generate (real PostgreSQL)', () => {
  let url: string;
  let dir: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    url = await createTestDatabase();
    // Inside the project, so that the generated file resolves 'typeorm' when the test loads it.
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    dir = mkdtempSync(join(process.cwd(), '.data', 'generated-migrations-'));
    copyFileSync(join(process.cwd(), 'migrations', 'index.ts'), join(dir, 'index.ts'));
    dataSource = await new DataSource(dataSourceOptions(config, url, ENTITIES)).initialize();
  });

  afterEach(async () => {
    await dataSource.destroy();
    await dropTestDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing when the entities and the migrated database agree', async () => {
    await expect(generateMigration(config, url, 'Nothing', dir, ENTITIES)).resolves.toBeUndefined();

    expect(readdirSync(dir)).toEqual(['index.ts']);
  });

  it('writes a migration, listed in MIGRATIONS, whose up brings the database to the entities and whose down undoes it', async () => {
    // The database one step behind the entities, as after adding a column and an index to them.
    await dataSource.query('DROP INDEX projects_status_idx');
    await dataSource.query('ALTER TABLE files DROP COLUMN language');
    const behind = await pendingQueries(dataSource);

    const generated = await generateMigration(config, url, 'AddFileLanguage', dir, ENTITIES, 1732300000000);

    expect(generated).toEqual({ file: join(dir, '1732300000000-add-file-language.ts'), destructive: [] });
    const file = generated!.file;
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toContain(
      `import { AddFileLanguage1732300000000 } from './1732300000000-add-file-language';`,
    );
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toContain('export const MIGRATIONS = [InitialSchema1732200000000, AddFileLanguage1732300000000];');
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('await q.query(`ALTER TABLE "files" ADD "language" character varying(64)`);');
    expect(source).toContain('await q.query(`CREATE INDEX "projects_status_idx" ON "projects"  ("status")`);');

    // Jest compiles the generated TypeScript on require, as it does the test itself.
    const { AddFileLanguage1732300000000: Generated } = require(file) as Record<string, new () => MigrationInterface>;
    const runner = dataSource.createQueryRunner();
    try {
      await new Generated().up(runner);
      expect(await pendingQueries(dataSource)).toEqual([]);

      await new Generated().down(runner);
      expect(await pendingQueries(dataSource)).toEqual(behind);
    } finally {
      await runner.release();
    }
  });

  it('names the statements that throw data away, as TypeORM changing a column length does', async () => {
    await dataSource.query('ALTER TABLE projects ALTER COLUMN name TYPE varchar(100)');

    const generated = await generateMigration(config, url, 'WidenProjectName', dir, ENTITIES);

    expect(generated?.destructive).toEqual(['ALTER TABLE "projects" DROP COLUMN "name"']);
  });

  it('refuses a database with migrations not applied yet, whose changes the new one would repeat', async () => {
    await migrate(config, url, 'revert');

    await expect(generateMigration(config, url, 'TooEarly', dir, ENTITIES)).rejects.toBeInstanceOf(PendingMigrationsError);
    expect(readdirSync(dir)).toEqual(['index.ts']);
  });
});
