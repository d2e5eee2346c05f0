import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { hashPassword } from '../../src/auth/password';
import { AppConfig } from '../../src/config/app-config';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { migrate } from '../../src/database/migrate';
import { Args } from './args';
import { responsesByServer, stopAllLoad } from './load';
import { freePort, openFileLimit } from '../shared/processes';
import { ChildServer, startNodeArgs, stopAllChildren } from './processes';
import { summarizeProfile, ProfileSummary } from './profile';
import { BenchResult, Machine, renderDocs, rowNotes, textTable } from './report';
import { BENCH_PASSWORD, BenchUser, Context, Fixtures, login, Mode, Plan, PLANS, Row, SCENARIOS, Scenario, SERVER_ENV, ServerKind } from './scenarios';
import { formatTimings, seed } from './seed';

/**
 * `npm run bench`: builds (the npm script runs tsc first), starts PostgreSQL (embedded, in its own
 * folder and port, unless DATABASE_URL), seeds, starts the app servers and the reference server as
 * child processes on 127.0.0.1, runs the scenarios with autocannon, prints the table, writes
 * tools/bench/results/<date>.json and rewrites docs/BENCHMARKS.md. Everything is stopped at the end,
 * on failure and on Ctrl-C; the whole run is bounded by the plan's deadline.
 *
 *   --quick            short runs, tiny dataset, 1 round
 *   --smoke            ~1 s runs, few connections, tiny seed (for the test suite); never writes docs
 *   --scenario NAME    only this scenario (repeatable or comma-separated)
 *   --profile          the `cached` app server under node --cpu-prof, summarized: the cached-get scenario,
 *                      or the scenarios --scenario names (post-activity's group-commit server is that one)
 *   --out DIR          where the results JSON goes (default tools/bench/results; smoke: a temp folder)
 *   --rounds N, --duration S   override the plan
 *   --no-docs          leave docs/BENCHMARKS.md alone
 */

/** This file runs as dist-dev/tools/bench/run.js. */
const ROOT = resolve(__dirname, '..', '..', '..');
const BUILD = join(ROOT, 'dist-dev');
/**
 * The servers run from a private copy of dist-dev/ (the app and the reference server, compiled by
 * the npm script), taken at start: a build elsewhere must not change the app under a running bench.
 * The copy sits under the project, so node_modules still resolves.
 */
const SNAPSHOT = join(ROOT, '.data', 'bench-build', String(process.pid));
const APP_MAIN = join(SNAPSHOT, 'src', 'main.js');
const REFERENCE_MAIN = join(SNAPSHOT, 'tools', 'bench', 'reference', 'server.js');
const RESULTS_DIR = join(ROOT, 'tools', 'bench', 'results');
const DOCS = join(ROOT, 'docs', 'BENCHMARKS.md');

const ADMIN_EMAIL = 'bench-admin@bench.local';
const LOGIN_CONCURRENCY = 4;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

class Servers {
  private readonly live = new Map<ServerKind, ChildServer>();
  /** Every app server started, stopped ones included. */
  readonly history: { kind: ServerKind; server: ChildServer }[] = [];

  constructor(
    private readonly env: Record<string, string>,
    private readonly setup: Record<string, number>,
    private readonly options: { profileDir?: string; profiled?: ServerKind; openFiles?: number; nodeArgs: readonly string[] },
  ) {}

  async get(kind: ServerKind, { fresh = false } = {}): Promise<ChildServer> {
    let server = this.live.get(kind);
    if (server && (fresh || !server.alive)) {
      if (!server.alive && !fresh) throw new Error(`the ${kind} app server died:\n${server.output()}`);
      await server.stop();
      this.live.delete(kind);
      server = undefined;
    }
    if (server) return server;
    const port = await freePort();
    const profiling = kind === this.options.profiled && this.options.profileDir !== undefined;
    server = new ChildServer({
      name: `app server (${kind})`,
      script: APP_MAIN,
      port,
      env: { ...this.env, ...SERVER_ENV[kind], PORT: String(port) },
      readyPath: '/health/ready',
      nodeArgs: [...this.options.nodeArgs, ...(profiling ? ['--cpu-prof', '--cpu-prof-dir', this.options.profileDir!] : [])],
      openFiles: this.options.openFiles,
    });
    const t0 = performance.now();
    log(`starting app server (${kind}) on port ${port}${profiling ? ' under --cpu-prof' : ''}`);
    this.history.push({ kind, server });
    await server.start();
    this.setup[`start app (${kind})`] = (this.setup[`start app (${kind})`] ?? 0) + (performance.now() - t0) / 1000;
    this.live.set(kind, server);
    return server;
  }

  async retain(kinds: readonly ServerKind[]): Promise<void> {
    for (const [kind, server] of this.live) {
      if (kinds.includes(kind)) continue;
      await server.stop();
      this.live.delete(kind);
    }
  }
}

function machineInfo(postgres: string, database: string): Machine {
  let memTotalMb = Number.NaN;
  try {
    const match = /MemTotal:\s+(\d+)\s+kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) memTotalMb = Math.round(Number(match[1]) / 1024);
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memTotalMb,
    node: process.version,
    postgres,
    database,
    kernel: release(),
    loadAvgStart: loadavg(),
    openFiles: openFileLimit(),
  };
}

async function createFixtures(db: Client, plan: Plan, tag: string): Promise<Fixtures> {
  const hash = await hashPassword(BENCH_PASSWORD);
  const admin = await db.query<{ id: string }>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'admin')
     ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = 'admin' RETURNING id`,
    [ADMIN_EMAIL, hash],
  );
  const users = await db.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, role)
     SELECT 'bench-user-' || g || '@bench.local', $2, 'user' FROM generate_series(1, $1::int) g
     ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash
     RETURNING id, email`,
    [plan.users, hash],
  );
  const ordered = users.rows.sort((a, b) => Number(/(\d+)@/.exec(a.email)![1]) - Number(/(\d+)@/.exec(b.email)![1]));
  const ids = ordered.map((u) => u.id);
  const projects = await db.query<{ id: string; user_id: string }>(
    `INSERT INTO projects (user_id, name, description, status, created_at, updated_at)
     SELECT u.id, 'Bench ' || $2 || ' user ' || u.i || ' #' || k, 'bench fixture', 'active',
            now() - interval '1 second' * k, now() - interval '1 second' * k
       FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, i), generate_series(1, $3::int) k
     RETURNING id, user_id`,
    [ids, tag, plan.projectsPerUser],
  );
  const byUser = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const p of projects.rows) byUser.get(p.user_id)!.push(p.id);

  const owner = ids[0];
  const coldCount = plan.poolBurst * plan.rounds + 10;
  const special = await db.query<{ id: string; name: string }>(
    `INSERT INTO projects (user_id, name, status)
     SELECT $1, 'Bench ' || $2 || CASE WHEN g = 0 THEN ' deep' ELSE ' cold #' || g END, 'active'
       FROM generate_series(0, $3::int) g
     RETURNING id, name`,
    [owner, tag, coldCount],
  );
  const deepProject = special.rows.find((r) => r.name.endsWith(' deep'))!.id;
  const coldProjects = special.rows.filter((r) => !r.name.endsWith(' deep')).map((r) => r.id);
  const deepActivities = plan.deepPages * 50 + 25;
  await db.query(
    `INSERT INTO agent_activities (project_id, agent, action, payload, created_at)
     SELECT $1, (ARRAY['planner','coder','reviewer','tester'])[1 + g % 4], 'deep.step', jsonb_build_object('seq', g, 'file', 'src/f' || (g % 97) || '.ts'),
            now() - interval '1 millisecond' * ($2 - g)
       FROM generate_series(1, $2::int) g`,
    [deepProject, deepActivities],
  );
  await db.query('ANALYZE projects, agent_activities');
  return {
    admin: { id: admin.rows[0].id, email: ADMIN_EMAIL, token: '', projects: [] },
    users: ordered.map((u) => ({ id: u.id, email: u.email, token: '', projects: byUser.get(u.id)! })),
    deepProject,
    deepActivities,
    coldProjects,
  };
}

async function loginAll(server: ChildServer, users: BenchUser[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++];
      user.token = await login(server.url, user);
    }
  };
  await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, worker));
}

function newestProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

async function main(): Promise<void> {
  const started = performance.now();
  const argv = process.argv.slice(2);
  const args = new Args(argv, ['quick', 'smoke', 'profile', 'no-docs']);
  const unknown = args.unknown(['scenario', 'out', 'rounds', 'duration']);
  if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.map((u) => `--${u}`).join(' ')}`);
  const mode: Mode = args.flag('smoke') ? 'smoke' : args.flag('quick') ? 'quick' : 'full';
  const base = PLANS[mode];
  const plan: Plan = { ...base, rounds: args.int('rounds', base.rounds, 1, 20), durationS: args.number('duration', base.durationS, 0.2, 600) };
  const profile = args.flag('profile');
  const requested = args.all('scenario');
  for (const name of requested) {
    if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`unknown scenario "${name}"; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  const names = requested.length > 0 ? requested : profile ? ['cached-get'] : SCENARIOS.map((s) => s.name);
  const scenarios: Scenario[] = SCENARIOS.filter((s) => names.includes(s.name));
  const resultMode: BenchResult['mode'] = profile ? 'profile' : requested.length > 0 ? 'partial' : mode;
  const outDir = resolve(args.string('out') ?? (mode === 'smoke' ? join(tmpdir(), `bench-smoke-${process.pid}`) : RESULTS_DIR));
  const writeDocs = mode !== 'smoke' && !args.flag('no-docs') && args.string('out') === undefined;
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}` : `node dist-dev/tools/bench/run.js ${argv.join(' ')}`.trim();

  Logger.overrideLogger(['error', 'warn']);
  const setup: Record<string, number> = {};
  const notes: string[] = [];
  let embedded: EmbeddedPostgres | undefined;
  let db: Client | undefined;
  let reference: ChildServer | undefined;
  let servers: Servers | undefined;

  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      stopAllLoad();
      await stopAllChildren();
      await db?.end().catch(() => undefined);
      await embedded?.stop().catch(() => undefined);
      rmSync(SNAPSHOT, { recursive: true, force: true });
    })());
  const abort = (why: string, code: number) => {
    log(why);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted: stopping every child process and PostgreSQL', 130));
  process.once('SIGTERM', () => abort('terminated: stopping every child process and PostgreSQL', 143));
  const deadline = setTimeout(() => abort(`the run exceeded its bound of ${plan.deadlineS} s: stopping`, 1), plan.deadlineS * 1000);
  deadline.unref();

  try {
    cpSync(BUILD, SNAPSHOT, { recursive: true, filter: (src) => !src.endsWith('.map') && !src.startsWith(join(BUILD, 'test')) });
    log(`mode ${mode}${resultMode !== mode ? ` (${resultMode})` : ''}: ${scenarios.map((s) => s.name).join(', ')}; ${plan.rounds} round(s) of ${plan.durationS} s`);
    // 1. PostgreSQL: DATABASE_URL, or an embedded one of the bench's own (never the dev database).
    let t0 = performance.now();
    let url = process.env.DATABASE_URL;
    let database = 'DATABASE_URL';
    if (!url) {
      const dir = resolve(ROOT, process.env.BENCH_PG_DIR ?? '.data/bench-postgres');
      const port = Number(process.env.BENCH_PG_PORT ?? 54339);
      embedded = new EmbeddedPostgres({ dir, port, onLog: () => undefined });
      // The app's own role, as `npm start` runs it: it owns the tables, so seeding needs no superuser.
      url = (await embedded.start()).appUrl;
      database = `embedded, ${dir.replace(ROOT + '/', '')}, port ${port}`;
    }
    setup['postgres start'] = (performance.now() - t0) / 1000;
    const poolEnv = { DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '10', DB_MAX_OVERFLOW: process.env.DB_MAX_OVERFLOW ?? '10' };
    const appConfig = AppConfig.fromEnv({ ...poolEnv, DATABASE_URL: url });
    t0 = performance.now();
    await migrate(appConfig, url);
    setup.migrations = (performance.now() - t0) / 1000;
    db = new Client({ connectionString: url, application_name: 'bench' });
    await db.connect();
    const version = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    const machine = machineInfo(version, database);
    log(`PostgreSQL ${version} (${database}); ${machine.nproc} cores, Node ${machine.node}; load average ${machine.loadAvgStart.map((v) => v.toFixed(2)).join(' ')}`);

    // 2. Data: the background bulk (seed logic) when missing, then this run's fixtures.
    t0 = performance.now();
    const existing = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM agent_activities')).rows[0].n);
    if (existing < plan.bulk.activities) {
      log(`seeding ${JSON.stringify(plan.bulk)} (the database holds ${existing} activities)`);
      const result = await seed(db, plan.bulk, {
        passwordHash: await hashPassword(BENCH_PASSWORD),
        progress: mode === 'smoke' ? () => undefined : undefined,
      });
      process.stderr.write(formatTimings(result.timings, result.totalSeconds) + '\n');
      setup['bulk seed'] = result.totalSeconds;
      notes.push(`Background data seeded in this run by the seed logic: ${JSON.stringify(plan.bulk)} in ${result.totalSeconds.toFixed(1)} s.`);
    } else {
      notes.push(`Background data already present: ${existing} activities (at least ${JSON.stringify(plan.bulk)} from the seed logic).`);
    }
    const tag = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
    t0 = performance.now();
    const fixtures = await createFixtures(db, plan, tag);
    setup.fixtures = (performance.now() - t0) / 1000;
    if (mode !== 'full') {
      notes.push(`${mode}: the deep activities read goes to page ${plan.deepPages} (${fixtures.deepActivities} activities in that project), not page 1000; ${plan.users} users; ${plan.connections} connections (POST ${plan.postConnections}, many-connections ${plan.manyConnections}).`);
    }

    // 3. Child processes: the reference and the app servers the scenarios need.
    const limit = openFileLimit();
    const needFiles = plan.manyConnections + 1000;
    const openFiles = limit && limit.soft < needFiles ? Math.min(limit.hard, needFiles * 2) : undefined;
    if (limit && limit.soft < needFiles) notes.push(`open files soft limit ${limit.soft} < ${needFiles}: the app server ran with ulimit -n ${openFiles}; the load generator keeps ${limit.soft}.`);
    const serverEnv: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_SECOND: '10000000',
      RATE_LIMIT_PER_MINUTE: '100000000',
      RATE_LIMIT_ANON_PER_MINUTE: '100000000',
      RATE_LIMIT_LOGIN_PER_MINUTE: '100000000',
      CURSOR_SECRET: 'bench-cursor-secret-0123456789abcdef',
      ADMIN_EMAIL,
      ADMIN_PASSWORD: BENCH_PASSWORD,
      DB_MIGRATIONS_RUN: 'false',
      ...poolEnv,
    };
    const profileDir = profile ? join(ROOT, '.data', 'bench-profiles', tag) : undefined;
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const nodeArgs = startNodeArgs(join(ROOT, 'package.json'));
    // The app server of the first scenario is profiled: cached-get's by default, `--scenario uncached-get` for the SELECT path.
    const profiled = scenarios[0].servers[0];
    servers = new Servers({ ...serverEnv, DATABASE_URL: url }, setup, { profileDir, profiled, openFiles, nodeArgs });
    const refPort = await freePort();
    reference = new ChildServer({
      name: 'reference server',
      script: REFERENCE_MAIN,
      port: refPort,
      env: {
        PORT: String(refPort),
        HOST: '127.0.0.1',
        DATABASE_URL: url,
        POOL_SIZE: poolEnv.DB_POOL_SIZE,
        POOL_MAX: String(appConfig.poolMax),
        POOL_TIMEOUT_MS: String(appConfig.pool.timeoutMs),
        BACKLOG: String(appConfig.listenBacklog),
      },
      readyPath: '/health',
      // The same node flags, backlog and open-files limit as the app: the ratios then compare code.
      nodeArgs: [...nodeArgs, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, 'reference')] : [])],
      openFiles,
    });
    t0 = performance.now();
    await reference.start();
    setup['start reference'] = (performance.now() - t0) / 1000;

    const first = await servers.get(scenarios[0].servers[0]);
    t0 = performance.now();
    await loginAll(first, [fixtures.admin, ...fixtures.users]);
    setup[`logins (${fixtures.users.length + 1})`] = (performance.now() - t0) / 1000;
    log(`${fixtures.users.length} users and the admin logged in via POST /api/auth/login in ${setup[`logins (${fixtures.users.length + 1})`].toFixed(1)} s`);

    const ctx: Context = {
      plan,
      fixtures,
      db,
      poolMax: appConfig.poolMax,
      server: (kind, options) => servers!.get(kind, options),
      retain: (kinds) => servers!.retain(kinds),
      reference,
      app: { main: APP_MAIN, env: { ...serverEnv, DATABASE_URL: url }, nodeArgs },
      log,
    };

    // 4. Scenarios, in order; servers no later scenario needs are stopped as we go.
    const rows: Row[] = [];
    for (let i = 0; i < scenarios.length; i++) {
      const scenario = scenarios[i];
      await servers.retain(scenario.servers);
      log(`scenario ${scenario.name}: ${scenario.description}`);
      const s0 = performance.now();
      const produced = await scenario.run(ctx);
      rows.push(...produced);
      log(`scenario ${scenario.name} done in ${((performance.now() - s0) / 1000).toFixed(1)} s (Node ${process.version})\n${textTable(produced)}`);
    }
    await servers.retain([]);

    let profileSummary: ProfileSummary | undefined;
    let referenceProfile: ProfileSummary | undefined;
    if (profileDir) {
      await reference.stop();
      // Start-up and shutdown left out: only the time the server was serving.
      const summarize = (dir: string, server: ChildServer | undefined): ProfileSummary | undefined => {
        const file = newestProfile(dir);
        if (!file || !server) {
          notes.push(`no .cpuprofile was written in ${dir.replace(ROOT + '/', '')}`);
          return undefined;
        }
        const { spawned, ready, stopping, exited } = server.times;
        const summary = summarizeProfile(file, { skipStartMs: ready - spawned, skipEndMs: Math.max(0, exited - stopping) });
        const requests = responsesByServer.get(server.url) ?? 0;
        return { ...summary, file: file.replace(ROOT + '/', ''), requests, busyUsPerRequest: requests > 0 ? (summary.busyMs * 1000) / requests : undefined };
      };
      profileSummary = summarize(profileDir, servers.history.find((h) => h.kind === profiled)?.server);
      referenceProfile = summarize(join(profileDir, 'reference'), reference);
    }

    // 5. Output.
    const date = new Date().toISOString();
    const result: BenchResult = {
      version: 1,
      date,
      node: process.version,
      mode: resultMode,
      command,
      scenarios: scenarios.map((s) => s.name),
      plan: { ...plan },
      machine: { ...machine, loadAvgEnd: loadavg() },
      serverEnv,
      nodeArgs,
      serverKinds: Object.fromEntries([...new Set(scenarios.flatMap((s) => s.servers))].map((k) => [k, SERVER_ENV[k]])),
      setup,
      rows: rows.map(roundRow),
      totalSeconds: (performance.now() - started) / 1000,
      profile: profileSummary,
      referenceProfile,
      notes,
    };
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}-${resultMode}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

    const out = [
      '',
      `benchmark (${resultMode}, Node ${process.version}) ${date}: ${command}`,
      `machine: ${machine.nproc} cores, ${machine.memTotalMb} MB, Node ${machine.node}, PostgreSQL ${machine.postgres} (${database})`,
      `app servers: LOG_LEVEL=warn; rate limits raised by configuration (RATE_LIMIT_PER_SECOND=${serverEnv.RATE_LIMIT_PER_SECOND}, RATE_LIMIT_PER_MINUTE=${serverEnv.RATE_LIMIT_PER_MINUTE}, RATE_LIMIT_ANON_PER_MINUTE=${serverEnv.RATE_LIMIT_ANON_PER_MINUTE}, RATE_LIMIT_LOGIN_PER_MINUTE=${serverEnv.RATE_LIMIT_LOGIN_PER_MINUTE})`,
      `${plan.rounds} round(s) of ${plan.durationS} s per measurement, app and reference interleaved; medians`,
      '',
      textTable(result.rows),
      '',
      ...rowNotes(result.rows).map((n) => `- ${n}`),
      ...notes.map((n) => `- ${n}`),
    ];
    if (profileSummary) {
      const us = (p?: ProfileSummary) => (p?.busyUsPerRequest === undefined ? '?' : `${Math.round(p.busyUsPerRequest)} µs`);
      out.push('', `busy CPU per response: app ${us(profileSummary)}, reference ${us(referenceProfile)}`);
      out.push('', `CPU profile (${profileSummary.file}), busy time by function (self):`);
      for (const f of profileSummary.topFunctions.slice(0, 15)) out.push(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.functionName || '(anonymous)'}  ${f.location}`);
      out.push('by package:');
      for (const p of profileSummary.byPackage.slice(0, 10)) out.push(`  ${p.selfPct.toFixed(1).padStart(5)}%  ${p.name}`);
      out.push('attributed to the nearest non-Node package on the stack:');
      for (const p of profileSummary.attributedByPackage.slice(0, 15)) out.push(`  ${p.pct.toFixed(1).padStart(5)}%  ${p.name}`);
      out.push('inclusive by package (on the stack):');
      for (const p of profileSummary.inclusiveByPackage.slice(0, 15)) out.push(`  ${p.pct.toFixed(1).padStart(5)}%  ${p.name}`);
      out.push('inclusive, our own functions:');
      for (const f of profileSummary.inclusiveAppFunctions.slice(0, 15)) out.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.functionName || '(anonymous)'}  ${f.location}`);
    }
    out.push('', `results: ${file}`);
    if (writeDocs) {
      const previous = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : undefined;
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      writeFileSync(DOCS, renderDocs(outDir, previous));
      out.push(`docs: ${DOCS.replace(ROOT + '/', '')} rewritten`);
    }
    out.push(`total ${Math.round(result.totalSeconds)} s`);
    console.log(out.join('\n'));
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

function roundRow(row: Row): Row {
  const r2 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? v : Math.round(v * 100) / 100);
  return {
    ...row,
    reqPerSec: row.reqPerSec === undefined ? undefined : Math.round(row.reqPerSec),
    avg: r2(row.avg),
    p50: r2(row.p50),
    p95: r2(row.p95),
    p99: r2(row.p99),
    max: r2(row.max),
    ratio: row.ratio === undefined || !Number.isFinite(row.ratio) ? row.ratio : Math.round(row.ratio * 1000) / 1000,
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
