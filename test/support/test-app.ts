import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino, { Logger as Pino } from 'pino';
import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { PoolObserver } from '../../src/database/pool-observer';
import { checkInjectedAnswers } from './contract';
import { createTestDatabase, dropTestDatabase } from './test-database';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** URL of this app's own database. */
  readonly url: string;
  /** Connections taken from the pool so far: a cheap way to count round trips of a request. */
  acquisitions(): number;
  close(): Promise<void>;
}

/** Settings every test app shares: quiet logs and rate limits (still enforced) far above test traffic. */
const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  CURSOR_SECRET: 'test-cursor-secret-0123456789',
  RATE_LIMIT_PER_SECOND: '1000000',
  RATE_LIMIT_PER_MINUTE: '10000000',
  RATE_LIMIT_ANON_PER_MINUTE: '1000000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  RATE_LIMIT_LOGIN_ACCOUNT_PER_MINUTE: '1000000',
};

/**
 * Boots the real application on its own fresh, migrated database (or on `opts.url`). Every answer
 * `app.inject` gets is checked against docs/openapi.json.
 */
export async function bootApp(
  env: Record<string, string> = {},
  opts: { logger?: Pino; url?: string; module?: (config: AppConfig) => DynamicModule } = {},
): Promise<TestApp> {
  const url = opts.url ?? (await createTestDatabase());
  const config = AppConfig.fromEnv({ ...TEST_ENV, ...env }).withDatabaseUrl(url);
  const app = await createApp(config, opts.logger ?? pino({ level: config.logLevel }), opts.module?.(config));
  await app.getHttpAdapter().getInstance().ready();
  checkInjectedAnswers(app);
  return {
    app,
    config,
    url,
    acquisitions: () => app.get(PoolObserver).acquireStats().count,
    close: async () => {
      await app.close();
      if (!opts.url) await dropTestDatabase(url);
    },
  };
}
