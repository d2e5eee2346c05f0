import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Query } from 'typeorm/driver/Query.js';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions, Entities } from './data-source';
import { connectWithRetry } from './migrate';

export interface MigrationName {
  /** `1732200000000-add-project-tags`, the file name without `.ts`. */
  readonly file: string;
  /** `AddProjectTags1732200000000`, the class and the name TypeORM records in `migrations`. */
  readonly className: string;
}

/** `AddProjectTags`, `add-project-tags` or `add_project tags` all name the same migration. */
export function migrationName(name: string, timestamp: number): MigrationName {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
  if (words.length === 0 || /^[0-9]/.test(words[0])) {
    throw new Error(`"${name}" is no migration name: use words, e.g. AddProjectTags`);
  }
  return {
    file: `${timestamp}-${words.join('-')}`,
    className: `${words.map((w) => w[0].toUpperCase() + w.slice(1)).join('')}${timestamp}`,
  };
}

function statement(query: Query): string {
  // The SQL goes into a template literal: its backslashes, backticks and ${ must stay literal.
  const text = query.query.trim().replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
  const params = query.parameters?.length ? `, ${JSON.stringify(query.parameters)}` : '';
  return `    await q.query(\`${text}\`${params});`;
}

/** A migration class in the style of the hand-written ones; `down` undoes `up` in reverse order. */
export function renderMigration(name: MigrationName, up: readonly Query[], down: readonly Query[]): string {
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated from the entities by \`npm run migration:generate\`. */
export class ${name.className} implements MigrationInterface {
  name = '${name.className}';

  async up(q: QueryRunner): Promise<void> {
${up.map(statement).join('\n')}
  }

  async down(q: QueryRunner): Promise<void> {
${[...down].reverse().map(statement).join('\n')}
  }
}
`;
}

/**
 * `migrations/index.ts` with the new migration imported and appended to MIGRATIONS: the list is
 * explicit, so a migration left out of it would never run.
 */
export function addToIndex(index: string, name: MigrationName): string {
  const list = /export const MIGRATIONS = \[([^\]]*)\];/;
  const entries = list.exec(index)?.[1].split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (!entries) throw new Error('migrations/index.ts has no `export const MIGRATIONS = [...];` to add the migration to');
  const lastImport = [...index.matchAll(/^import .*;$/gm)].at(-1);
  const at = lastImport ? lastImport.index + lastImport[0].length : 0;
  const withImport = `${index.slice(0, at)}${at ? '\n' : ''}import { ${name.className} } from './${name.file}';${at ? '' : '\n'}${index.slice(at)}`;
  return withImport.replace(list, `export const MIGRATIONS = [${[...entries, name.className].join(', ')}];`);
}

export class PendingMigrationsError extends Error {}

export interface GeneratedMigration {
  readonly file: string;
  /**
   * Statements of `up` that throw data away. TypeORM changes a column's type or length by dropping
   * and re-adding it, which a reviewer must turn into an ALTER COLUMN ... TYPE by hand.
   */
  readonly destructive: string[];
}

/**
 * Writes a migration with what TypeORM's schema builder finds between the entities and the
 * database at `url`, and adds it to `migrations/index.ts`. The database must have every migration
 * applied, or the new one would repeat what the pending ones do. Undefined when the entities
 * and the database already agree.
 */
export async function generateMigration(
  config: AppConfig,
  url: string,
  name: string,
  migrationsDir: string,
  entities: Entities,
  timestamp = Date.now(),
): Promise<GeneratedMigration | undefined> {
  const migration = migrationName(name, timestamp);
  const base = dataSourceOptions(config, url, entities);
  const dataSource = new DataSource({ ...base, extra: { ...base.extra, max: 1, min: 0 } });
  await connectWithRetry(() => dataSource.initialize(), config.dbConnectRetries, new Logger('Migrations'));
  try {
    if (await dataSource.showMigrations()) {
      throw new PendingMigrationsError('the database has migrations not applied yet: run `npm run migration:run` first');
    }
    const { upQueries, downQueries } = await dataSource.driver.createSchemaBuilder().log();
    if (upQueries.length === 0) return undefined;
    const file = join(migrationsDir, `${migration.file}.ts`);
    const indexFile = join(migrationsDir, 'index.ts');
    const index = addToIndex(readFileSync(indexFile, 'utf8'), migration);
    writeFileSync(file, renderMigration(migration, upQueries, downQueries), { flag: 'wx' });
    writeFileSync(indexFile, index);
    return { file, destructive: upQueries.map((q) => q.query).filter((sql) => /\bDROP (COLUMN|TABLE)\b/.test(sql)) };
  } finally {
    await dataSource.destroy();
  }
}
