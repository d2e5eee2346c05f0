import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { AppConfig } from '../../src/config/app-config';
import { findPostgresUser } from '../../src/database/embedded-postgres.access';
import { readCredentials } from '../../src/database/embedded-postgres.credentials';
import { migrate } from '../../src/database/migrate';
import { freePort } from '../../tools/shared/processes';
import { DatabaseProcess } from './database-process';
import { until } from './eventually';

/** The settings the standby needs the primary's own values of (hot standby refuses fewer). */
const SERVER_SETTINGS = `listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n`;
const STREAMING = `SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'`;

/**
 * A primary PostgreSQL and a hot standby streaming from it, both from the embedded-postgres
 * binaries: the primary as the app starts its own (initdb, roles, the `app` database, migrated),
 * the standby from a cold copy of the primary's data folder with `standby.signal` and
 * `primary_conninfo`, the way a base backup is made without pg_basebackup (which the package does
 * not ship).
 */
export class ReplicationPair {
  private constructor(
    private readonly root: string,
    readonly primary: DatabaseProcess,
    readonly standby: StandbyServer,
    /** The app role on the app database, on the primary and on the standby. */
    readonly primaryUrl: string,
    readonly standbyUrl: string,
    /** The superuser on the standby: replay pause and resume. */
    readonly standbyAdminUrl: string,
  ) {}

  static async start(): Promise<ReplicationPair> {
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    const root = mkdtempSync(join(process.cwd(), '.data', 'replication-'));
    // mkdtemp makes it 0700; as root PostgreSQL runs as its own user and must get in.
    chmodSync(root, 0o755);
    const [primaryPort, standbyPort] = [await freePort(), await freePort()];
    const primaryDir = join(root, 'primary');
    const standbyDir = join(root, 'standby');
    const primary = new DatabaseProcess(primaryDir, primaryPort);
    const standby = new StandbyServer(standbyDir);
    try {
      const primaryUrl = await primary.start();
      await migrate(AppConfig.fromEnv({ LOG_LEVEL: 'silent' }), primaryUrl);
      await primary.stop();

      // PostgreSQL's defaults already allow one standby (wal_level, max_wal_senders = 10, hot_standby,
      // the replication lines of initdb's pg_hba.conf); named here as the recipe. A standby refuses
      // to replay WAL from a primary with more wal senders than it has itself.
      appendFileSync(join(primaryDir, 'postgresql.auto.conf'), 'wal_level = replica\nmax_wal_senders = 10\nhot_standby = on\n');
      appendFileSync(join(primaryDir, 'pg_hba.conf'), 'host replication postgres 127.0.0.1/32 scram-sha-256\n');
      // A clean shutdown left a consistent folder: its copy starts where the primary stopped.
      execFileSync('cp', ['-a', primaryDir, standbyDir]);
      const { superuser } = readCredentials(primaryDir)!;
      const conninfo = `host=127.0.0.1 port=${primaryPort} user=${superuser.user} password=${superuser.password} application_name=replica-0`;
      writeFileSync(join(standbyDir, 'standby.signal'), '');
      appendFileSync(join(standbyDir, 'postgresql.auto.conf'), `${SERVER_SETTINGS}port = ${standbyPort}\nprimary_conninfo = '${conninfo}'\n`);

      await primary.start();
      const standbyUrl = new URL(primaryUrl);
      standbyUrl.port = String(standbyPort);
      const adminUrl = (port: number) => {
        const url = new URL(`postgres://127.0.0.1:${port}/postgres`);
        url.username = superuser.user;
        url.password = encodeURIComponent(superuser.password);
        return url.toString();
      };
      await standby.start(adminUrl(standbyPort));
      // The app's role sees no state in pg_stat_replication: the superuser asks.
      await until(async () => (await query<{ n: number }>(adminUrl(primaryPort), STREAMING))[0].n === 1, 30_000);
      return new ReplicationPair(root, primary, standby, primaryUrl, standbyUrl.toString(), adminUrl(standbyPort));
    } catch (err) {
      await standby.stop();
      await primary.stop();
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.standby.stop();
    await this.primary.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The standby's postgres, run straight from the package's binary: embedded-postgres waits for a line a standby never prints. */
export class StandbyServer {
  private proc: ChildProcess | undefined;
  private readonly output: string[] = [];

  constructor(private readonly dir: string) {}

  get running(): boolean {
    return this.proc !== undefined;
  }

  async start(adminUrl: string): Promise<void> {
    const user = process.getuid?.() === 0 ? findPostgresUser() : undefined;
    const proc = spawn(postgresBinary(), ['-D', this.dir], { stdio: ['ignore', 'pipe', 'pipe'], ...(user && { uid: user.uid, gid: user.gid }) });
    this.proc = proc;
    for (const stream of [proc.stdout!, proc.stderr!]) stream.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    proc.once('exit', () => (this.proc = undefined));
    try {
      await until(async () => {
        if (!this.proc) throw new Error('exited');
        const rows = await query<{ recovering: boolean }>(adminUrl, 'SELECT pg_is_in_recovery() AS recovering').catch(() => []);
        return rows[0]?.recovering === true;
      }, 30_000);
    } catch {
      throw new Error(`standby did not come up as a hot standby:\n${this.output.join('').slice(-4000)}`);
    }
  }

  /** A fast shutdown: its connections are closed, as when the replica's host goes down. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGINT');
    const kill = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(kill);
  }
}

/** One statement on a fresh connection: a test's view of a server, apart from the app's pools. */
export async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

function postgresBinary(): string {
  // The package's entry is dist/index.js, beside native/bin.
  return join(dirname(require.resolve(`@embedded-postgres/${platform()}-${arch()}`)), '..', 'native', 'bin', 'postgres');
}
