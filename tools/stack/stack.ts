import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from '../shared/child';
import { freePort } from '../shared/processes';
import { NGINX_BIN, startNginx } from './nginx';
import { debianPostgresBin, startPostgres } from './postgres';

const REDIS_BIN = 'redis-server';

/** The address nginx connects to the instances from: the only proxy they trust (TRUST_PROXY). */
const NGINX_SOURCE_ADDRESS = '127.0.0.1';

export interface StackOptions {
  /** Everything the stack writes: PostgreSQL's cluster, nginx's config and logs, Redis's folder, secrets. */
  readonly dir: string;
  /** The app's compiled entry point (dist/src/main.js; the tests use dist-dev/src/main.js). */
  readonly appMain: string;
  /** 1 or 2 app instances behind nginx (default 2). */
  readonly instances?: 1 | 2;
  /** An existing database for the instances; unset: Debian's PostgreSQL is started under `dir`. */
  readonly databaseUrl?: string;
  /** More (or overriding) environment for every instance: rate limits, log level... */
  readonly env?: Readonly<Record<string, string>>;
  readonly nodeArgs?: readonly string[];
  readonly log?: (message: string) => void;
}

export interface StackInstance {
  readonly name: string;
  readonly url: string;
  readonly child: Child;
}

export interface Stack {
  /** nginx: the one address clients use. */
  readonly url: string;
  readonly instances: readonly StackInstance[];
  readonly nginx: Child;
  readonly redis: Child;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** Debian's PostgreSQL when the stack started it. */
  readonly postgres: Child | undefined;
  readonly admin: { readonly email: string; readonly password: string };
  /** nginx's access log: one line per request, naming the instance that answered. */
  readonly accessLog: string;
  /** Stops everything (nginx, the instances, Redis, PostgreSQL); safe to call twice. */
  stop(): Promise<void>;
}

interface Secrets {
  readonly adminEmail: string;
  readonly adminPassword: string;
  readonly cursorSecret: string;
  readonly postgresPassword: string;
  readonly appDbPassword: string;
}

/**
 * Made on first start and kept in `dir`: the cluster and the admin user outlive a run, so the
 * passwords they were created with must too. CURSOR_SECRET is shared by the instances: a cursor
 * signed by one is accepted by the other.
 */
function secretsIn(dir: string): Secrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  const secret = () => randomBytes(18).toString('base64url');
  const secrets: Secrets = {
    adminEmail: 'admin@stack.local',
    adminPassword: secret(),
    cursorSecret: secret(),
    postgresPassword: secret(),
    appDbPassword: secret(),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}

/** What is missing to run the stack here (nginx, redis-server), or undefined. */
export function stackMissing(): string | undefined {
  if (!existsSync(NGINX_BIN)) return `${NGINX_BIN} not found (Debian package "nginx")`;
  try {
    execFileSync(REDIS_BIN, ['--version'], { stdio: 'ignore' });
  } catch {
    return `${REDIS_BIN} not found (Debian package "redis-server")`;
  }
  return undefined;
}

/**
 * The production topology on this machine, from real packages: nginx (least_conn, the shipped
 * docker/nginx/app.conf.template) in front of one or two app instances, one Redis (no
 * persistence), one PostgreSQL (Debian's, unless `databaseUrl`), each on a free port of
 * 127.0.0.1. Shared by `npm run stack:local`, the nginx e2e test and the bench.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { dir, appMain, instances: count = 2, log = () => undefined } = options;
  mkdirSync(dir, { recursive: true });
  // Started as root, PostgreSQL (user postgres) and nginx's workers (nobody) must get through it
  // to their own folders (a mkdtemp folder is 0700); secrets.json stays 0600.
  chmodSync(dir, 0o755);
  const secrets = secretsIn(dir);
  const children: Child[] = [];
  // A stack left running by a crashed caller would hold its ports: its children die with it.
  const killAll = () => children.forEach((c) => c.kill());
  process.once('exit', killAll);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // nginx first (SIGQUIT: it finishes the requests it has), then the instances drain theirs,
      // then what they depend on.
      await nginx?.stop('SIGQUIT', 10_000);
      await Promise.all(apps.map((a) => a.child.stop('SIGTERM', 15_000)));
      await Promise.all([redis?.stop('SIGTERM', 5_000), postgres?.stop('SIGINT', 15_000)]);
      process.removeListener('exit', killAll);
    })());

  let nginx: Child | undefined;
  let redis: Child | undefined;
  let postgres: Child | undefined;
  const apps: StackInstance[] = [];
  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      const bin = debianPostgresBin();
      if (!bin) throw new Error('no PostgreSQL server in /usr/lib/postgresql/<version>/bin: install Debian\'s "postgresql" package');
      const port = await freePort();
      log(`starting PostgreSQL (${bin}) on 127.0.0.1:${port}`);
      const pg = await startPostgres({
        bin,
        dataDir: join(dir, 'postgres', 'data'),
        port,
        superuserPassword: secrets.postgresPassword,
        app: { name: 'app', password: secrets.appDbPassword },
      });
      children.push((postgres = pg.child));
      databaseUrl = pg.url;
    }

    const redisPort = await freePort();
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    log(`starting redis-server on 127.0.0.1:${redisPort} (no persistence)`);
    redis = new Child('redis', REDIS_BIN, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { keepLines: 2_000 });
    children.push(redis);
    await redis.waitForLine(/Ready to accept connections/);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    for (const [i, port] of ports.entries()) {
      const name = `app-${i + 1}`;
      const child = new Child(name, process.execPath, [...(options.nodeArgs ?? []), appMain], {
        keepLines: 5_000,
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          REDIS_URL: redisUrl,
          TRUST_PROXY: NGINX_SOURCE_ADDRESS,
          CURSOR_SECRET: secrets.cursorSecret,
          ADMIN_EMAIL: secrets.adminEmail,
          ADMIN_PASSWORD: secrets.adminPassword,
          ...options.env,
        },
      });
      children.push(child);
      apps.push({ name, url: `http://127.0.0.1:${port}`, child });
    }
    log(`starting ${count} app instance(s) (${appMain}) on ${apps.map((a) => a.url).join(', ')}`);
    // Both migrate at start under the same advisory lock; one applies, the other finds them done.
    await Promise.all(apps.map((a) => a.child.waitForHttp(`${a.url}/health/ready`, 90_000, `${a.name} ready`)));

    const nginxPort = await freePort();
    const addr = apps.map((a) => new URL(a.url).host);
    log(`starting nginx on 127.0.0.1:${nginxPort}`);
    nginx = startNginx({ dir: join(dir, 'nginx'), port: nginxPort, upstreams: [addr[0], addr[1] ?? addr[0]] });
    children.push(nginx);
    const url = `http://127.0.0.1:${nginxPort}`;
    await nginx.waitForHttp(`${url}/health/ready`, 15_000, 'nginx ready');

    return {
      url,
      instances: apps,
      nginx,
      redis,
      redisUrl,
      databaseUrl,
      postgres,
      admin: { email: secrets.adminEmail, password: secrets.adminPassword },
      accessLog: join(dir, 'nginx', 'logs', 'access.log'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
