import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { AppConfig } from '../../src/config/app-config';
import { sqlState, UNIQUE_VIOLATION_CODE } from '../../src/database/database.errors';
import { dataSourceOptions } from '../../src/database/data-source';
import { PreparedSql } from '../../src/database/prepared-sql';
import { ENTITIES } from '../../src/entities';
import { TcpProxy } from '../support/tcp-proxy';
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
    sql = new PreparedSql(dataSource, config);
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

  it('sends a lag-tolerant read to the primary when no replica is configured', async () => {
    expect(await sql.readLagTolerant<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering', [])).toEqual([{ recovering: false }]);
  });
});

describe('PreparedSql with DB_PREPARED_STATEMENTS=false (for PgBouncer in transaction mode before 1.21)', () => {
  const unnamed = AppConfig.fromEnv({ LOG_LEVEL: 'silent', DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '0', DB_PREPARED_STATEMENTS: 'false' });
  let url: string;
  let dataSource: DataSource;

  beforeAll(async () => {
    url = await createTestDatabase();
    dataSource = await new DataSource(dataSourceOptions(unnamed, url, ENTITIES)).initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropTestDatabase(url);
  });

  it('prepares nothing on the server: reads and writes travel as unnamed statements', async () => {
    const sut = new PreparedSql(dataSource, unnamed);

    expect(await sut.read<{ n: number }>('SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
    expect(await sut.write(`INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'user')`, ['u@example.com'])).toEqual({ rows: [], count: 1 });
    expect(await sut.readLagTolerant<{ n: number }>('SELECT $1::int * 2 AS n', [21])).toEqual([{ n: 42 }]);

    // The pool's one connection, the one every statement above went through.
    expect(await sut.read('SELECT name, statement FROM pg_prepared_statements', [])).toEqual([]);
  });
});

describe('PreparedSql with a replica that goes away (a TCP proxy in front of the same database)', () => {
  let url: string;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let sut: PreparedSql;

  beforeAll(async () => {
    url = await createTestDatabase();
    const server = new URL(url);
    proxy = new TcpProxy(server.hostname, Number(server.port));
    const replica = new URL(url);
    replica.port = String(await proxy.start());
    dataSource = await new DataSource(dataSourceOptions(config, url, ENTITIES, [replica.toString()])).initialize();
    sut = new PreparedSql(dataSource, config);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await proxy.cut();
    await dropTestDatabase(url);
  });

  it('reads through the replica, then, once it is gone, from the primary, leaving the replica alone for a while', async () => {
    const replicaPool = (dataSource.driver as PostgresDriver).slaves[0] as Pool;
    const text = 'SELECT $1::int AS n';

    expect(await sut.readLagTolerant(text, [1])).toEqual([{ n: 1 }]);
    expect(proxy.upstreamPorts()).toHaveLength(1);
    expect(replicaPool.totalCount).toBe(1);

    await proxy.cut();
    expect(await sut.readLagTolerant(text, [2])).toEqual([{ n: 2 }]);

    // Back at once, but marked down for at least 500 ms: the next read does not knock.
    await proxy.restore();
    expect(await sut.readLagTolerant(text, [3])).toEqual([{ n: 3 }]);
    expect(proxy.upstreamPorts()).toHaveLength(0);
  });
});
