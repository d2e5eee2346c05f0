import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env-schema';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { EmbeddedPostgresSetupError } from './database/embedded-postgres.errors';
import { migrate } from './database/migrate';
import { BootProbe } from './http/boot-probe';
import { createRootLogger, PinoNestLogger } from './http/logger';
import { ShutdownState } from './http/shutdown-state';

/**
 * Boot: config -> embedded PostgreSQL when DATABASE_URL is unset -> migrations -> Nest on Fastify.
 * While booting, a probe answers on the port (live 200, everything else 503).
 * Shutdown: readiness 503 (for SHUTDOWN_GRACE_MS) -> HTTP drains in-flight requests -> the
 * activity writer flushes and the pool closes -> embedded PostgreSQL stops; a timer forces the
 * exit if any step hangs.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const root = createRootLogger(config);
  Logger.overrideLogger(new PinoNestLogger(root));
  const logger = new Logger('Main');

  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ ...config.embeddedPg, onLog: (line) => root.debug({ context: 'postgres' }, String(line).trim()) });
  const probe = new BootProbe();
  let app: NestFastifyApplication | undefined;
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining`);
    const force = setTimeout(() => {
      logger.error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await probe.stop();
      if (app) {
        app.get(ShutdownState).begin();
        if (config.shutdownGraceMs > 0) await sleep(config.shutdownGraceMs);
        await closeWithin(app, config.shutdownDrainMs, logger);
      }
      await embedded?.stop();
      logger.log('shutdown complete');
      process.exit(0);
    } catch (err) {
      logger.error({ msg: 'shutdown failed', err });
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  try {
    await probe.start(config.port, config.host);
    const url = config.databaseUrl ?? (await embedded!.start()).appUrl;
    config = config.withDatabaseUrl(url);
    if (config.migrationsRun) await migrate(config, url);
    if (stopping) return;
    app = await createApp(config, root);
    await probe.stop();
    await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
    logger.log(`listening on http://${config.host}:${config.port} (database: ${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
  } catch (err) {
    // A setup problem the person starting the app must fix: its one line says how, a stack would bury it.
    const setup = err instanceof EmbeddedPostgresSetupError;
    if (setup) console.error(err.message);
    else logger.fatal({ msg: 'start-up failed', err });
    await probe.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(setup ? 2 : 1);
  }
}

/**
 * Nest closes the HTTP server (waiting for in-flight requests) before the shutdown hooks that
 * flush the activity writer and end the pool. A client that never finishes its request would hold
 * that wait, and with it the flush, until the force timer exits 1: past SHUTDOWN_DRAIN_MS the
 * remaining connections are destroyed so the flush and the pool close still run. Their requests
 * were never answered, so nothing acknowledged is lost.
 */
async function closeWithin(app: NestFastifyApplication, drainMs: number, logger: Logger): Promise<void> {
  const closing = app.close();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), drainMs)));
  if ((await Promise.race([closing, deadline])) === 'late') {
    logger.warn(`connections still open after SHUTDOWN_DRAIN_MS (${drainMs} ms): closing them`);
    app.getHttpServer().closeAllConnections();
  }
  clearTimeout(timer);
  await closing;
}

void main();
