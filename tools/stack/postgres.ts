import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { Child } from '../shared/child';

const DEBIAN_POSTGRES = '/usr/lib/postgresql';

/** The newest server of Debian's `postgresql` packages (/usr/lib/postgresql/<version>/bin), if any. */
export function debianPostgresBin(): string | undefined {
  if (!existsSync(DEBIAN_POSTGRES)) return undefined;
  const versions = readdirSync(DEBIAN_POSTGRES)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_POSTGRES, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(DEBIAN_POSTGRES, versions[0], 'bin') : undefined;
}

export interface PostgresOptions {
  readonly bin: string;
  /** The cluster's folder (created by initdb on first start, reused afterwards). */
  readonly dataDir: string;
  readonly port: number;
  /** The superuser's password, set at initdb: keep it for later starts of the same folder. */
  readonly superuserPassword: string;
  /** The application's role and database, created when missing. */
  readonly app: { readonly name: string; readonly password: string };
}

export interface RunningPostgres {
  readonly child: Child;
  /** The application's URL (its own role, owner of its database). */
  readonly url: string;
}

/**
 * initdb and postgres refuse to run as root: started by root, they run as Debian's `postgres` user
 * (node's spawn with uid/gid, no `runuser`, whose SIGTERM-then-SIGKILL-after-2-s would cut
 * PostgreSQL's own shutdown short), on a folder that user owns.
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, PostgreSQL needs the "postgres" user that Debian\'s postgresql package creates');
  }
}

/**
 * A PostgreSQL server of its own on 127.0.0.1:<port>, TCP only (no Unix socket), password
 * authentication; the cluster is created on first use. Stop it with SIGINT (fast shutdown: open
 * sessions are ended rather than waited for).
 */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const { bin, dataDir, port } = options;
  const user = runAs();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    // The parents stay traversable for the postgres user; the cluster's own folder is private.
    mkdirSync(dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    const pwfile = join(dirname(dataDir), 'initdb-password');
    writeFileSync(pwfile, options.superuserPassword, { mode: 0o600 });
    if (user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(pwfile, user.uid, user.gid);
    }
    try {
      execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        ...user,
      });
    } catch (err) {
      throw new Error(`initdb failed:\n${(err as { stderr?: string }).stderr ?? String(err)}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const child = new Child('postgres', join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    keepLines: 2_000,
    ...user,
  });
  const superuser = `postgres://postgres:${encodeURIComponent(options.superuserPassword)}@127.0.0.1:${port}/postgres`;
  await waitForServer(child, superuser);
  const { name, password } = options.app;
  const client = new Client({ connectionString: superuser });
  await client.connect();
  try {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (role.rowCount === 0) await client.query(`CREATE ROLE ${client.escapeIdentifier(name)} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (db.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} OWNER ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  return { child, url: `postgres://${name}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}` };
}

async function waitForServer(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`postgres exited (${child.exitStatus}):\n${child.tail()}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms (${(err as Error).message}):\n${child.tail()}`);
      await sleep(100);
    }
  }
}
