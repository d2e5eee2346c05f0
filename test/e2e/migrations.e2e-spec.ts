import { Client } from 'pg';
import { AppConfig } from '../../src/config/app-config';
import { migrate } from '../../src/database/migrate';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';

async function tables(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    return rows.map((r: { table_name: string }) => r.table_name);
  } finally {
    await client.end();
  }
}

describe('migrations (real PostgreSQL)', () => {
  it('revert undoes the schema and run applies it again; running twice, even at once, applies nothing twice', async () => {
    const url = await createTestDatabase();
    const config = AppConfig.fromEnv({ LOG_LEVEL: 'silent' });
    try {
      await migrate(config, url, 'revert');
      expect(await tables(url)).toEqual(['migrations']);

      const [first, second] = await Promise.all([migrate(config, url), migrate(config, url)]);

      expect([...first, ...second]).toEqual(['InitialSchema1732200000000']);
      expect(await tables(url)).toEqual(['agent_activities', 'api_tokens', 'files', 'migrations', 'projects', 'users']);
    } finally {
      await dropTestDatabase(url);
    }
  });
});
