import { Query } from 'typeorm/driver/Query.js';
import { addToIndex, migrationName, renderMigration } from './migration-generate';

describe('migrationName', () => {
  it.each(['AddProjectTags', 'add-project-tags', 'add_project tags'])('names %s as the hand-written migrations are named', (name) => {
    expect(migrationName(name, 1732300000000)).toEqual({
      file: '1732300000000-add-project-tags',
      className: 'AddProjectTags1732300000000',
    });
  });

  it.each(['', '--', '2fast'])('refuses %j, which makes no class name', (name) => {
    expect(() => migrationName(name, 1)).toThrow(/no migration name/);
  });
});

describe('renderMigration', () => {
  const name = migrationName('AddTags', 1732300000000);

  it('runs the up queries in order and the down queries in reverse', () => {
    const sut = renderMigration(
      name,
      [new Query('ALTER TABLE "projects" ADD "tags" text'), new Query('CREATE INDEX "projects_tags_idx" ON "projects" ("tags") ')],
      [new Query('ALTER TABLE "projects" DROP COLUMN "tags"'), new Query('DROP INDEX "public"."projects_tags_idx"')],
    );

    expect(sut).toContain(`export class AddTags1732300000000 implements MigrationInterface {\n  name = 'AddTags1732300000000';`);
    expect(sut).toContain(
      '  async up(q: QueryRunner): Promise<void> {\n' +
        '    await q.query(`ALTER TABLE "projects" ADD "tags" text`);\n' +
        '    await q.query(`CREATE INDEX "projects_tags_idx" ON "projects" ("tags")`);\n  }',
    );
    expect(sut).toContain(
      '  async down(q: QueryRunner): Promise<void> {\n' +
        '    await q.query(`DROP INDEX "public"."projects_tags_idx"`);\n' +
        '    await q.query(`ALTER TABLE "projects" DROP COLUMN "tags"`);\n  }',
    );
  });

  it('keeps backticks, backslashes and ${ in the SQL literal, and passes parameters', () => {
    const sut = renderMigration(name, [new Query("COMMENT ON COLUMN t.c IS 'a`b\\\\n${x}'", ['p'])], []);

    expect(sut).toContain("await q.query(`COMMENT ON COLUMN t.c IS 'a\\`b\\\\\\\\n\\${x}'`, [\"p\"]);");
  });
});

describe('addToIndex', () => {
  const index = `import { InitialSchema1732200000000 } from './1732200000000-initial-schema';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1732200000000];
`;

  it('imports the migration and appends it to MIGRATIONS, so it runs last', () => {
    const sut = addToIndex(index, migrationName('AddTags', 1732300000000));

    expect(sut).toBe(`import { InitialSchema1732200000000 } from './1732200000000-initial-schema';
import { AddTags1732300000000 } from './1732300000000-add-tags';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1732200000000, AddTags1732300000000];
`);
  });

  it('refuses an index without the MIGRATIONS list', () => {
    expect(() => addToIndex('export const OTHER = [];\n', migrationName('AddTags', 1))).toThrow(/MIGRATIONS/);
  });
});
