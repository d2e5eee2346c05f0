import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { createTestDatabase, dropTestDatabase } from './test-database';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** URL of this app's own database. */
  readonly url: string;
  close(): Promise<void>;
}

/** Settings every test app shares: quiet logs and no limits that would trip over test traffic. */
const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
};

/** Boots the real application on its own fresh, migrated database. */
export async function bootApp(env: Record<string, string> = {}): Promise<TestApp> {
  const url = await createTestDatabase();
  const config = AppConfig.fromEnv({ ...TEST_ENV, ...env }).withDatabaseUrl(url);
  const app = await createApp(config, pino({ level: config.logLevel }));
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    config,
    url,
    close: async () => {
      await app.close();
      await dropTestDatabase(url);
    },
  };
}
