import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as Pino } from 'pino';
import { createApp } from './app.factory';
import { WorkerChannel } from './cluster/worker-channel';
import { AppConfig } from './config/app-config';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { EmbeddedPostgresSetupError } from './database/embedded-postgres.errors';
import { migrate } from './database/migrate';
import { BootProbe } from './http/boot-probe';
import { ShutdownState } from './http/shutdown-state';
import type { Telemetry } from './telemetry/telemetry';

/**
 * One serving process (WORKERS=1, or one cluster worker).
 * Boot: embedded PostgreSQL when DATABASE_URL is unset -> migrations -> Nest on Fastify.
 * While booting, a probe answers on the port (live 200, everything else 503); not in a cluster
 * worker, whose port is shared with the others: there the primary has started the database and
 * run the migrations, and a booting worker simply takes no connections yet.
 * Shutdown: readiness 503 (for SHUTDOWN_GRACE_MS) -> HTTP drains in-flight requests -> the
 * activity writer flushes and the pool closes -> embedded PostgreSQL stops; a timer forces the
 * exit if any step hangs. Spans still buffered (the last requests', the writer's last flush) are
 * exported last, once nothing can make more.
 */
export async function serve(config: AppConfig, root: Pino, telemetry?: Telemetry): Promise<void> {
  const logger = new Logger('Main');
  const inCluster = WorkerChannel.shared().enabled;

  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ ...config.embeddedPg, onLog: (line) => root.debug({ context: 'postgres' }, String(line).trim()) });
  const probe = inCluster ? undefined : new BootProbe();
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
      await probe?.stop();
      if (app) {
        app.get(ShutdownState).begin();
        if (config.shutdownGraceMs > 0) await sleep(config.shutdownGraceMs);
        await closeWithin(app, config.shutdownDrainMs, logger);
      }
      await embedded?.stop();
      await telemetry?.shutdown();
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
    await probe?.start(config.port, config.host);
    const url = config.databaseUrl ?? (await embedded!.start()).appUrl;
    config = config.withDatabaseUrl(url);
    if (config.migrationsRun) await migrate(config, url);
    if (stopping) return;
    app = await createApp(config, root);
    await probe?.stop();
    await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
    logger.log(`listening on http://${config.host}:${config.port} (database: ${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
  } catch (err) {
    // A setup problem the person starting the app must fix: its one line says how, a stack would bury it.
    const setup = err instanceof EmbeddedPostgresSetupError;
    if (setup) console.error(err.message);
    else logger.fatal({ msg: 'start-up failed', err });
    await probe?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(setup ? 2 : 1);
  }
}

const IDLE_SWEEP_MS = 50;

/**
 * Nest closes the HTTP server (waiting for in-flight requests) before the shutdown hooks that
 * flush the activity writer and end the pool. A client that never finishes its request would hold
 * that wait, and with it the flush, until the force timer exits 1: past SHUTDOWN_DRAIN_MS the
 * remaining connections are destroyed so the flush and the pool close still run. Their requests
 * were never answered, so nothing acknowledged is lost.
 */
async function closeWithin(app: NestFastifyApplication, drainMs: number, logger: Logger): Promise<void> {
  const server = app.getHttpServer();
  const closing = app.close();
  // close() ends the connections idle at that moment; one busy then (a proxy's kept-alive
  // upstream connection) would stay open after its answer until the drain timer. Ending the idle
  // ones as they appear lets the drain finish when the last answer is sent.
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), drainMs)));
  if ((await Promise.race([closing, deadline])) === 'late') {
    logger.warn(`connections still open after SHUTDOWN_DRAIN_MS (${drainMs} ms): closing them`);
    server.closeAllConnections();
  }
  clearTimeout(timer);
  try {
    await closing;
  } finally {
    clearInterval(sweep);
  }
}

