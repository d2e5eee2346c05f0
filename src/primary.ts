import type { Worker } from 'node:cluster';
import { Logger } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { GroupMetrics, type MetricsJson } from './cluster/group-metrics';
import { IpcTimeoutError } from './cluster/ipc-peer';
import { PrimaryBus } from './cluster/primary-bus';
import { Supervisor } from './cluster/supervisor';
import { IPC } from './cluster/worker-channel';
import { AppConfig } from './config/app-config';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { EmbeddedPostgresSetupError } from './database/embedded-postgres.errors';
import { migrate } from './database/migrate';
import { BootProbe } from './http/boot-probe';
import { LocalCounters, type RateLimitHit } from './http/rate-limit/rate-limit.storage';

// Longest the primary waits for one worker's part of the group's metrics or timings, or for its
// confirmation of an invalidation. A worker that takes longer cannot be answering requests either.
const WORKER_ANSWER_MS = 2_000;
// Beyond the workers' own SHUTDOWN_TIMEOUT_MS: time to see them exit and stop the database.
const PRIMARY_EXTRA_MS = 2_000;

/**
 * WORKERS > 1: this process serves nothing itself. It starts the embedded PostgreSQL and runs the
 * migrations once (workers must not each start a database or race the migrations), then forks the
 * workers on the one port (node:cluster hands connections out round-robin) and keeps them running
 * (Supervisor). It is also what the workers share without Redis: the bus that passes an
 * invalidation to the others and waits for them, the rate-limit counters, and the gathering of
 * every worker's metrics and timings. On SIGTERM/SIGINT each worker drains as one process would,
 * then the database stops.
 */
export async function runPrimary(config: AppConfig, root: Pino): Promise<void> {
  const logger = new Logger('Primary');
  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ ...config.embeddedPg, onLog: (line) => root.debug({ context: 'postgres' }, String(line).trim()) });
  const probe = new BootProbe();
  const counters = new LocalCounters();
  const metrics = new GroupMetrics();
  const slots = new Map<Worker, number>();
  let supervisor: Supervisor | undefined;
  let stopping = false;

  const bus: PrimaryBus = new PrimaryBus({
    [IPC.invalidate]: async (tags, from) => {
      const answers = bus.workers(from).map((w) => bus.ask(w, IPC.invalidate, tags, WORKER_ANSWER_MS));
      // An error answer is a worker without a cache yet; an exited one has none any more. A worker
      // blocked past the bound must not hold every write: the write goes on, logged, and that
      // worker may answer from a stale entry until it reads the bump.
      for (const answer of await Promise.allSettled(answers)) {
        if (answer.status === 'rejected' && answer.reason instanceof IpcTimeoutError) logger.warn(`a worker did not confirm an invalidation: ${answer.reason.message}`);
      }
    },
    [IPC.rateLimit]: (body) => {
      const { key, ttl, limit } = body as RateLimitHit;
      return counters.hit(key, ttl, limit, Date.now());
    },
    [IPC.groupMetrics]: async () => {
      await Promise.all(
        bus.workers().map(async (w) => {
          const json = await bus.ask<MetricsJson>(w, IPC.workerMetrics, null, WORKER_ANSWER_MS).catch(() => undefined);
          const slot = slots.get(w);
          // Not answering: its last known figures stand in, so the totals do not dip.
          if (json !== undefined && slot !== undefined) metrics.update(slot, json);
        }),
      );
      return metrics.aggregate().metrics();
    },
    [IPC.groupTimings]: async () => {
      const parts = await Promise.allSettled(bus.workers().map((w) => bus.ask(w, IPC.workerTimings, null, WORKER_ANSWER_MS)));
      return parts.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []));
    },
    [IPC.resetTimings]: async () => {
      await Promise.allSettled(bus.workers().map((w) => bus.ask(w, IPC.resetTimings, null, WORKER_ANSWER_MS)));
    },
  });

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: stopping the workers`);
    const force = setTimeout(() => {
      logger.error(`workers did not stop within ${config.shutdownTimeoutMs + PRIMARY_EXTRA_MS} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs + PRIMARY_EXTRA_MS);
    force.unref();
    try {
      await probe.stop();
      const clean = (await supervisor?.stop(signal)) ?? true;
      await embedded?.stop();
      logger.log(`shutdown complete${clean ? '' : ' (a worker exited with an error)'}`);
      process.exit(clean ? 0 : 1);
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
    if (config.migrationsRun) await migrate(config.withDatabaseUrl(url), url);
    if (stopping) return;
    // The workers' listen() goes through this process: the probe must let go of the port first.
    await probe.stop();
    let listening = 0;
    supervisor = new Supervisor({
      workers: config.workers,
      env: { DATABASE_URL: url, DB_MIGRATIONS_RUN: 'false' },
      onFork: (worker, slot) => {
        slots.set(worker, slot);
        bus.attach(worker);
        worker.once('listening', () => {
          if (++listening === config.workers) {
            logger.log(`listening on http://${config.host}:${config.port} with ${config.workers} workers (database: ${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
          }
        });
      },
      onExit: (worker, slot) => {
        slots.delete(worker);
        metrics.retire(slot);
      },
    });
    supervisor.start();
  } catch (err) {
    const setup = err instanceof EmbeddedPostgresSetupError;
    if (setup) console.error(err.message);
    else logger.fatal({ msg: 'start-up failed', err });
    await probe.stop().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(setup ? 2 : 1);
  }
}
