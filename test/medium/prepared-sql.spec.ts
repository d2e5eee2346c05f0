import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { sqlState, UNIQUE_VIOLATION_CODE } from '../../src/database/database.errors';
import { dataSourceOptions } from '../../src/database/data-source';
import { PreparedSql } from '../../src/database/prepared-sql';
import { ENTITIES } from '../../src/entities';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';

// One connection, so the prepared statements the test looks for are on the session it asks.
const config = AppConfig.fromEnv({ LOG_LEVEL: 'silent', DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '0' });

describe('PreparedSql (real PostgreSQL)', () => {
  let url: string;
  let dataSource: DataSource;
  let sql: PreparedSql;

  beforeAll(async () => {
    url = await createTestDatabase();
    dataSource = await new DataSource(dataSourceOptions(config, url, ENTITIES)).initialize();
    sql = new PreparedSql(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropTestDatabase(url);
  });

  it('sends each statement text as one named prepared statement, whatever its values', async () => {
    const text = 'SELECT $1::int + 1 AS n';

    expect(await sql.read<{ n: number }>(text, [1])).toEqual([{ n: 2 }]);
    expect(await sql.read<{ n: number }>(text, [41])).toEqual([{ n: 42 }]);

    const prepared = await sql.read<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]);
    expect(prepared).toHaveLength(1);
    expect(prepared[0].name).toMatch(/^s[\w-]{16}$/);
  });

  it('answers a write with the rows it returned and the number it changed', async () => {
    const inserted = await sql.write<{ email: string }>(
      `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'user'), ($2, 'x', 'user') RETURNING email`,
      ['a@example.com', 'b@example.com'],
    );
    expect(inserted).toEqual({ rows: [{ email: 'a@example.com' }, { email: 'b@example.com' }], count: 2 });

    const deleted = await sql.write(`DELETE FROM users WHERE email = ANY($1::text[])`, [['a@example.com', 'nobody@example.com']]);
    expect(deleted).toEqual({ rows: [], count: 1 });
  });

  it("lets the database's refusal through with its SQLSTATE, for the feature's constraint answers", async () => {
    const insert = `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'user')`;
    await sql.write(insert, ['taken@example.com']);

    const error = await sql.write(insert, ['taken@example.com']).catch((e: unknown) => e);

    expect(sqlState(error)).toBe(UNIQUE_VIOLATION_CODE);
  });
});
