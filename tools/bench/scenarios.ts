import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { LoadOptions, LoadResult, runLoad } from './load';
import { OtlpReceiver } from '../shared/otlp-receiver';
import { cpuSeconds, freePort, sampleRss } from '../shared/processes';
import { median, percentile, round } from '../shared/stats';
import { ChildServer } from './processes';
import { APP_HIT_HEADERS } from './reference/app-headers';
import { auth, mixedRequests, perUser, rowOf } from './requests';
import { scaleNginx } from './scale-nginx';
import { scaleWorkers } from './scale-workers';
import { meets, pairedRatio, RoundsSummary, summarizeRounds, Target } from './stats';

export type Mode = 'full' | 'quick' | 'smoke';

/** Sizes and durations of one kind of run. */
export interface Plan {
  readonly mode: Mode;
  /** Seconds of each measured load run. */
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly postConnections: number;
  readonly manyConnections: number;
  /** Bench users (each with a token from POST /api/auth/login). */
  readonly users: number;
  readonly projectsPerUser: number;
  /** The page the deep activities read goes to (pages of 50). */
  readonly deepPages: number;
  /** Distinct never-read projects asked for while the pool is held, per round. */
  readonly poolBurst: number;
  /** Background data (the seed logic), added when the database holds fewer activities. */
  readonly bulk: { users: number; projects: number; files: number; activities: number };
  /** Bound on the whole run. */
  readonly deadlineS: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: {
    mode: 'full',
    durationS: 10,
    warmupS: 2,
    rounds: 3,
    connections: 100,
    postConnections: 200,
    manyConnections: 5000,
    users: 100,
    projectsPerUser: 10,
    deepPages: 1000,
    poolBurst: 10,
    bulk: { users: 100, projects: 10_000, files: 50_000, activities: 1_000_000 },
    deadlineS: 40 * 60,
  },
  quick: {
    mode: 'quick',
    durationS: 3,
    warmupS: 1,
    rounds: 1,
    connections: 100,
    postConnections: 200,
    manyConnections: 5000,
    users: 100,
    projectsPerUser: 5,
    deepPages: 100,
    poolBurst: 10,
    bulk: { users: 20, projects: 200, files: 1_000, activities: 20_000 },
    deadlineS: 10 * 60,
  },
  smoke: {
    mode: 'smoke',
    durationS: 1,
    warmupS: 0.3,
    rounds: 1,
    connections: 10,
    postConnections: 20,
    manyConnections: 50,
    users: 5,
    projectsPerUser: 2,
    deepPages: 5,
    poolBurst: 3,
    bulk: { users: 2, projects: 10, files: 20, activities: 500 },
    deadlineS: 170,
  },
};

/** The app configurations the scenarios need; each runs as its own `node dist/src/main.js`. */
export type ServerKind = 'cached' | 'uncached' | 'unbatched' | 'pool-timeout' | 'workers-2';

export const POOL_TIMEOUT_MS = 1000;

export const SERVER_ENV: Record<ServerKind, Record<string, string>> = {
  cached: {},
  uncached: { CACHE_ENABLED: 'false' },
  unbatched: { ACTIVITY_BATCH_ENABLED: 'false' },
  // The scenario exhausts the pool through /debug/db-test on purpose, so it keeps no reserve.
  'pool-timeout': { DB_POOL_TIMEOUT_MS: String(POOL_TIMEOUT_MS), DEBUG_DB_TEST_RESERVE: '0' },
  'workers-2': { WORKERS: '2' },
};

export interface BenchUser {
  readonly id: string;
  readonly email: string;
  token: string;
  readonly projects: string[];
}

export interface Fixtures {
  readonly admin: BenchUser;
  readonly users: BenchUser[];
  /** Owned by users[0]; deepPages * 50 + some activities. */
  readonly deepProject: string;
  readonly deepActivities: number;
  /** Owned by users[0], never read before the pool-exhausted scenario. */
  readonly coldProjects: string[];
}

export interface Row {
  readonly scenario: string;
  readonly label: string;
  readonly kind: 'measured' | 'reference' | 'baseline' | 'check';
  readonly connections?: number;
  readonly reqPerSec?: number;
  readonly reqPerSecRounds?: number[];
  readonly avg?: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
  readonly max?: number;
  readonly errors?: number;
  readonly non2xx?: number;
  readonly statusCodes?: Record<string, number>;
  /** CPU time of the server process per response, µs (median of the rounds): steadier than req/s on a shared machine. */
  readonly cpuUs?: number;
  readonly ratio?: number;
  readonly ratioOf?: string;
  readonly target?: string;
  readonly met?: boolean;
  readonly notes?: string;
}

export interface Context {
  readonly plan: Plan;
  readonly fixtures: Fixtures;
  readonly db: Client;
  readonly poolMax: number;
  server(kind: ServerKind, options?: { fresh?: boolean }): Promise<ChildServer>;
  /** Stops the app servers not in `kinds`. */
  retain(kinds: readonly ServerKind[]): Promise<void>;
  readonly reference: ChildServer;
  /** How the bench starts an app server, for scenarios that start their own (scale-nginx.ts). */
  readonly app: { readonly main: string; readonly env: Readonly<Record<string, string>>; readonly nodeArgs: readonly string[] };
  log(message: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly servers: readonly ServerKind[];
  run(ctx: Context): Promise<Row[]>;
}

export const BENCH_PASSWORD = 'bench-password-1234';

/** A new token for `user` through POST /api/auth/login. */
export async function login(serverUrl: string, user: BenchUser): Promise<string> {
  const res = await fetch(`${serverUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: BENCH_PASSWORD }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 && res.status !== 201) throw new Error(`login of ${user.email} answered ${res.status}: ${JSON.stringify(body)}`);
  return body.token!;
}

/** A load run described once and run several times (warm-up, rounds). */
interface LoadSpec extends Omit<LoadOptions, 'url' | 'durationS'> {
  readonly server: () => ChildServer;
}

/** One run, with the CPU time the server process used over it, per response. */
async function load(_ctx: Context, spec: LoadSpec, durationS: number, extra: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const { server, ...options } = spec;
  const target = server();
  const before = cpuSeconds(target.pid);
  const result = await runLoad({ ...options, url: target.url, durationS, ...extra });
  const used = cpuSeconds(target.pid) - before;
  return result.responses > 0 && Number.isFinite(used) ? { ...result, cpuUsPerResponse: (used * 1e6) / result.responses } : result;
}

/** A and B (and more) interleaved: warm-up each once, then rounds of A B A B. */
async function interleaved(ctx: Context, specs: readonly LoadSpec[]): Promise<RoundsSummary[]> {
  for (const spec of specs) await load(ctx, spec, ctx.plan.warmupS);
  const runs: LoadResult[][] = specs.map(() => []);
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (let i = 0; i < specs.length; i++) runs[i].push(await load(ctx, specs[i], ctx.plan.durationS));
  }
  return runs.map(summarizeRounds);
}

function withTarget(row: Row, ratio: number, ratioOf: string, target: Target, extra: { ok?: boolean; notes?: string } = {}): Row {
  const ratioMet = meets(ratio, target);
  return {
    ...row,
    ratio,
    ratioOf,
    target: `ratio ${target.op} ${target.bound}x`,
    met: ratioMet && (extra.ok ?? true) && (row.errors ?? 0) === 0 && (row.non2xx ?? 0) === 0,
    notes: [row.errors || row.non2xx ? `errors ${row.errors}, non-2xx ${row.non2xx}` : '', extra.notes ?? ''].filter(Boolean).join('; ') || undefined,
  };
}

async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

// ---------------------------------------------------------------------------------------------

/** Reads `path` twice as `user`; the second answer, which must be a cache hit. */
async function cacheHit(server: ChildServer, path: string, user: BenchUser): Promise<{ headers: Headers }> {
  await getJson(server.url + path, auth(user));
  const check = await getJson(server.url + path, auth(user));
  if (check.status !== 200 || check.headers.get('x-cache') !== 'HIT') {
    throw new Error(`${server.options.name} answered GET ${path} with ${check.status} ${check.headers.get('x-cache')}, expected 200 and x-cache HIT`);
  }
  return check;
}

/** Headers Node and Fastify add to any answer, the reference's as well. */
const NODE_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

const cachedGet: Scenario = {
  name: 'cached-get',
  description: 'GET /api/projects/:id, a cache hit (auth + rate limit + metrics + cache), vs the reference serving constant JSON',
  servers: ['cached'],
  async run(ctx) {
    const server = await ctx.server('cached');
    const user = ctx.fixtures.users[0];
    const path = `/api/projects/${user.projects[0]}`;
    const check = await cacheHit(server, path, user);
    const appNames = [...check.headers.keys()].filter((name) => !NODE_HEADERS.has(name)).sort();
    const refNames = Object.keys(APP_HIT_HEADERS).sort();
    if (appNames.join() !== refNames.join()) {
      throw new Error(`cached-get: the app's cache hit sends ${appNames.join(', ')}; tools/bench/reference/server.ts APP_HIT_HEADERS has ${refNames.join(', ')}`);
    }
    const c = ctx.plan.connections;
    const [app, ref, refHeaders] = await interleaved(ctx, [
      { server: () => server, connections: c, path, headers: auth(user) },
      { server: () => ctx.reference, connections: c, path: '/constant' },
      { server: () => ctx.reference, connections: c, path: '/constant-app-headers' },
    ]);
    const ratio = pairedRatio(app.reqPerSecRounds, ref.reqPerSecRounds).median;
    const headersRatio = pairedRatio(refHeaders.reqPerSecRounds, ref.reqPerSecRounds).median;
    return [
      withTarget(rowOf(this.name, 'app GET /api/projects/:id (cache hit)', 'measured', c, app), ratio, 'reference constant JSON', { op: '>=', bound: 0.6 }),
      rowOf(this.name, 'reference: bare Fastify, constant JSON', 'reference', c, ref),
      {
        ...rowOf(this.name, `reference: the same constant JSON with the app's ${refNames.length} response headers`, 'reference', c, refHeaders),
        ratio: headersRatio,
        ratioOf: 'reference constant JSON',
        notes: `what the headers alone cost bare Fastify; the app is ${round(pairedRatio(app.reqPerSecRounds, refHeaders.reqPerSecRounds).median, 2)}x of this row`,
      },
    ];
  },
};

/**
 * What tracing costs a cache hit: the same GET on the cached server (tracing off) and on a second
 * app server with tracing on at the default sampler (parent-based, always on: every request is a
 * sampled trace), exporting over OTLP/HTTP to a sink in the bench process that answers 200 as a
 * collector does and counts what it receives.
 */
const tracing: Scenario = {
  name: 'tracing',
  description: 'GET /api/projects/:id, a cache hit, tracing off vs on (default sampler, OTLP/HTTP to a sink in the bench)',
  servers: ['cached'],
  async run(ctx) {
    const untraced = await ctx.server('cached');
    const sink = new OtlpReceiver();
    const endpoint = await sink.start();
    const port = await freePort();
    const traced = new ChildServer({
      name: 'app server (traced)',
      script: ctx.app.main,
      port,
      env: { ...ctx.app.env, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'bench' },
      readyPath: '/health/ready',
      nodeArgs: ctx.app.nodeArgs,
    });
    try {
      ctx.log(`tracing: starting app server (traced) on port ${port}, exporting to ${endpoint}`);
      await traced.start();
      const user = ctx.fixtures.users[0];
      const path = `/api/projects/${user.projects[0]}`;
      for (const server of [untraced, traced]) await cacheHit(server, path, user);
      const c = ctx.plan.connections;
      const [off, on] = await interleaved(ctx, [
        { server: () => untraced, connections: c, path, headers: auth(user) },
        { server: () => traced, connections: c, path, headers: auth(user) },
      ]);
      const ratio = pairedRatio(on.reqPerSecRounds, off.reqPerSecRounds).median;
      const exports = sink.requests.get('/v1/traces') ?? 0;
      const received = `${exports} trace export(s), ${sink.requests.get('/v1/metrics') ?? 0} metric export(s), ${round(sink.bytes / 1024, 0)} kB received by the sink`;
      return [
        {
          ...rowOf(this.name, 'app cached GET, tracing on (default sampler)', 'measured', c, on),
          ratio,
          ratioOf: 'same, tracing off',
          notes: exports > 0 ? received : `${received}: tracing did not export, the app may not have started it`,
        },
        rowOf(this.name, 'baseline: cached GET, tracing off', 'baseline', c, off),
      ];
    } finally {
      await traced.stop();
      await sink.stop();
    }
  },
};

const uncachedGet: Scenario = {
  name: 'uncached-get',
  description: 'GET /api/projects/:id with CACHE_ENABLED=false (one SELECT per request) vs the reference running the same SQL',
  servers: ['uncached'],
  async run(ctx) {
    const server = await ctx.server('uncached');
    const user = ctx.fixtures.users[0];
    const id = user.projects[0];
    const check = await getJson(`${server.url}/api/projects/${id}`, auth(user));
    const refCheck = await getJson(`${ctx.reference.url}/projects/${id}`, { 'x-user-id': user.id });
    if (check.status !== 200 || refCheck.status !== 200 || check.body.name !== refCheck.body.name) {
      throw new Error(`uncached-get: app ${check.status} / reference ${refCheck.status} disagree`);
    }
    const c = ctx.plan.connections;
    const [app, ref] = await interleaved(ctx, [
      { server: () => server, connections: c, path: `/api/projects/${id}`, headers: auth(user) },
      { server: () => ctx.reference, connections: c, path: `/projects/${id}`, headers: { 'x-user-id': user.id } },
    ]);
    const ratio = pairedRatio(app.reqPerSecRounds, ref.reqPerSecRounds).median;
    return [
      withTarget(rowOf(this.name, 'app GET /api/projects/:id (CACHE_ENABLED=false)', 'measured', c, app), ratio, 'reference same SQL', { op: '>=', bound: 0.75 }),
      rowOf(this.name, 'reference: bare Fastify + pg, same SELECT', 'reference', c, ref),
    ];
  },
};

const activities: Scenario = {
  name: 'activities',
  description: 'GET /api/projects/:id/activities?limit=50, page 1 and a deep page (keyset), CACHE_ENABLED=false, vs the reference running the same SQL',
  servers: ['uncached'],
  async run(ctx) {
    const server = await ctx.server('uncached');
    const user = ctx.fixtures.users[0];
    const id = ctx.fixtures.deepProject;
    const deep = ctx.plan.deepPages;
    const base = `/api/projects/${id}/activities?limit=50`;
    // Page through once: the cursor of page `deep` as the app signs it.
    ctx.log(`activities: paging to page ${deep} of project ${id}`);
    let cursor: string | null = null;
    const started = Date.now();
    for (let page = 1; page < deep; page++) {
      const res = await getJson(server.url + base + (cursor ? `&cursor=${cursor}` : ''), auth(user));
      if (res.status !== 200) throw new Error(`activities: page ${page} answered ${res.status}: ${JSON.stringify(res.body)}`);
      cursor = res.body.nextCursor;
      if (!cursor) throw new Error(`activities: the project ran out of pages at page ${page}`);
    }
    const pagingS = (Date.now() - started) / 1000;
    const deepPath = base + `&cursor=${cursor}`;
    const deepCheck = await getJson(server.url + deepPath, auth(user));
    if (deepCheck.status !== 200 || deepCheck.body.items.length !== 50) throw new Error(`activities: page ${deep} answered ${deepCheck.status}`);
    // The reference gets the same position: the cursor's body is base64url JSON [createdAt, id].
    const after = cursor!.slice(0, cursor!.indexOf('.'));
    const refDeep = `/projects/${id}/activities?limit=50&after=${after}`;
    const refCheck = await getJson(ctx.reference.url + refDeep, { 'x-user-id': user.id });
    if (refCheck.status !== 200 || refCheck.body.items[0]?.id !== deepCheck.body.items[0]?.id) {
      throw new Error('activities: the reference and the app disagree on the deep page');
    }
    const c = ctx.plan.connections;
    const refHeaders = { 'x-user-id': user.id };
    const [app1, ref1, appN, refN] = await interleaved(ctx, [
      { server: () => server, connections: c, path: base, headers: auth(user) },
      { server: () => ctx.reference, connections: c, path: `/projects/${id}/activities?limit=50`, headers: refHeaders },
      { server: () => server, connections: c, path: deepPath, headers: auth(user) },
      { server: () => ctx.reference, connections: c, path: refDeep, headers: refHeaders },
    ]);
    const r1 = pairedRatio(app1.reqPerSecRounds, ref1.reqPerSecRounds).median;
    const rN = pairedRatio(appN.reqPerSecRounds, refN.reqPerSecRounds).median;
    const depth = pairedRatio(appN.reqPerSecRounds, app1.reqPerSecRounds).median;
    const depthRow: Row = {
      scenario: this.name,
      label: `app page ${deep} vs app page 1 (req/s)`,
      kind: 'check',
      ratio: depth,
      ratioOf: 'app page 1',
      target: `ratio >= 0.83x (page ${deep} within 1.2x of page 1)`,
      met: depth >= 1 / 1.2,
      notes: `p50 ${round(appN.p50, 2)} ms vs ${round(app1.p50, 2)} ms`,
    };
    return [
      withTarget(rowOf(this.name, 'app page 1 (limit=50)', 'measured', c, app1), r1, 'reference same SQL', { op: '>=', bound: 0.75 }),
      rowOf(this.name, 'reference page 1', 'reference', c, ref1),
      withTarget(rowOf(this.name, `app page ${deep} (${deep * 50} rows deep)`, 'measured', c, appN), rN, 'reference same SQL', { op: '>=', bound: 0.75 }, {
        notes: `cursor collected by paging ${deep - 1} requests in ${round(pagingS, 1)} s; project holds ${ctx.fixtures.deepActivities} activities`,
      }),
      rowOf(this.name, `reference page ${deep}`, 'reference', c, refN),
      depthRow,
    ];
  },
};

async function activityRows(db: Client, projects: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM agent_activities WHERE project_id = ANY($1::uuid[])', [projects]);
  return Number(rows[0].n);
}

/**
 * The count once writes have stopped: a duration-bound run (the warm-up) ends with requests in
 * flight that the server still commits after the load generator has hung up.
 */
async function settledActivityRows(db: Client, projects: readonly string[]): Promise<number> {
  let last = await activityRows(db, projects);
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const now = await activityRows(db, projects);
    if (now === last) return now;
    last = now;
  }
  return last;
}

const postActivity: Scenario = {
  name: 'post-activity',
  description: 'POST /api/projects/:id/activities, 200 connections, group commit (ACTIVITY_BATCH_ENABLED=true) vs one INSERT per request; rows written == 2xx answers',
  servers: ['cached', 'unbatched'],
  async run(ctx) {
    const batched = await ctx.server('cached');
    const single = await ctx.server('unbatched');
    const c = ctx.plan.postConnections;
    const users = ctx.fixtures.users;
    const projects = users.map((u) => u.projects[0]);
    const body = JSON.stringify({ agent: 'bench', action: 'activity.posted', payload: { tokens: 1200, file: 'src/main.ts' } });
    const spec = (server: ChildServer): LoadSpec => ({
      server: () => server,
      connections: c,
      setupClient: perUser(users, (user) => [
        { method: 'POST', path: `/api/projects/${user.projects[0]}/activities`, headers: { ...auth(user), 'content-type': 'application/json' }, body },
      ]),
    });
    const sides = [
      { name: 'batched', server: batched, runs: [] as LoadResult[], mismatches: [] as string[], rate: 0 },
      { name: 'unbatched', server: single, runs: [] as LoadResult[], mismatches: [] as string[], rate: 0 },
    ];
    for (const side of sides) side.rate = (await load(ctx, spec(side.server), ctx.plan.warmupS)).reqPerSec;
    // Fixed request counts (not durations): every request is answered before the count of rows,
    // so "rows written == 2xx" is exact. Sized from the previous run's rate to last about durationS.
    for (let r = 0; r < ctx.plan.rounds; r++) {
      for (const side of sides) {
        const amount = Math.max(c * 2, Math.round(side.rate * ctx.plan.durationS));
        const before = await settledActivityRows(ctx.db, projects);
        const result = await load(ctx, spec(side.server), ctx.plan.durationS, { amount, hardLimitMs: ctx.plan.durationS * 4000 + 30_000 });
        const after = await settledActivityRows(ctx.db, projects);
        side.runs.push(result);
        side.rate = result.reqPerSec;
        const written = after - before;
        if (written !== result.ok2xx || result.cutShort) {
          side.mismatches.push(`round ${r + 1}: ${written} rows for ${result.ok2xx} 2xx${result.cutShort ? ' (cut short)' : ''}`);
        }
      }
    }
    const [b, u] = sides.map((s) => summarizeRounds(s.runs));
    const ratio = pairedRatio(b.reqPerSecRounds, u.reqPerSecRounds).median;
    const integrity = (s: (typeof sides)[number]) =>
      s.mismatches.length === 0 ? `rows == 2xx in every round (${s.runs.map((x) => x.ok2xx).join(', ')})` : `MISMATCH ${s.mismatches.join('; ')}`;
    const unbatchedRow = rowOf(this.name, 'baseline: one INSERT per request (ACTIVITY_BATCH_ENABLED=false)', 'baseline', c, u);
    return [
      withTarget(rowOf(this.name, 'app POST activity, group commit', 'measured', c, b), ratio, 'one INSERT per request', { op: '>=', bound: 5 }, {
        ok: sides.every((s) => s.mismatches.length === 0),
        notes: integrity(sides[0]),
      }),
      { ...unbatchedRow, notes: integrity(sides[1]) },
    ];
  },
};

const mixed: Scenario = {
  name: 'mixed',
  description: 'users with their own tokens: 80% GET project by id, 15% list projects, 5% POST activity',
  servers: ['cached'],
  async run(ctx) {
    const server = await ctx.server('cached');
    const users = ctx.fixtures.users;
    const c = ctx.plan.connections;
    const spec: LoadSpec = { server: () => server, connections: c, setupClient: perUser(users, mixedRequests) };
    const [s] = await interleaved(ctx, [spec]);
    const ok = s.avg < 10 && s.p95 < 20 && s.p99 < 50 && s.errors === 0 && s.non2xx === 0;
    return [
      {
        ...rowOf(this.name, `app mixed, ${users.length} users (80% get, 15% list, 5% post)`, 'measured', c, s),
        target: 'avg < 10, p95 < 20, p99 < 50 ms, 0 errors',
        met: ok,
        notes: `avg ${round(s.avg, 2)} ms; status ${JSON.stringify(s.statusCodes)}`,
      },
    ];
  },
};

/**
 * Opens `count` keep-alive connections that each make one request and then stay open, idle: the
 * server holds them all while the load runs over other connections. `opening` at a time.
 */
async function holdConnections(url: string, count: number, request: (i: number) => string, opening = 200): Promise<{ open: () => number; errors: number; close: () => void }> {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  let errors = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const i = next++;
      const socket = connect({ host: hostname, port: Number(port) });
      const fail = () => {
        errors++;
        socket.destroy();
        resolve();
      };
      socket.setTimeout(15_000, fail);
      socket.once('error', fail);
      socket.once('connect', () => socket.write(request(i)));
      socket.once('data', () => {
        socket.setTimeout(0);
        socket.removeListener('error', fail);
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        sockets.push(socket);
        resolve();
      });
    });
  const worker = async () => {
    while (next < count) await one();
  };
  await Promise.all(Array.from({ length: Math.min(opening, count) }, worker));
  return {
    open: () => sockets.filter((s) => !s.destroyed).length,
    errors,
    close: () => sockets.forEach((s) => s.destroy()),
  };
}

const manyConnections: Scenario = {
  name: 'c5000',
  description: 'cached GET /api/projects/:id over 5,000 concurrent connections; server RSS from /proc/<pid>/status',
  servers: ['cached'],
  async run(ctx) {
    const users = ctx.fixtures.users;
    const c = ctx.plan.manyConnections;
    const active = Math.min(c, ctx.plan.connections);
    const specFor = (server: ChildServer, connections: number): LoadSpec => ({
      server: () => server,
      connections,
      timeoutS: 10,
      setupClient: perUser(users, (user, i) => [
        { method: 'GET', path: `/api/projects/${user.projects[Math.floor(i / users.length) % user.projects.length]}`, headers: auth(user) },
      ]),
    });
    // A fresh server for each variant, so RSS is this scenario's own; every key is warmed with a
    // modest load first, so the rounds measure connections, not cache misses.
    const fresh = async () => {
      const server = await ctx.server('cached', { fresh: true });
      await load(ctx, specFor(server, active), ctx.plan.warmupS);
      return { server, rssBefore: sampleRss(server.pid).stop() };
    };
    const rounds = async (server: ChildServer, connections: number) => {
      const runs: LoadResult[] = [];
      const peaks: number[] = [];
      for (let r = 0; r < ctx.plan.rounds; r++) {
        const rss = sampleRss(server.pid, 100);
        runs.push(await load(ctx, specFor(server, connections), ctx.plan.durationS));
        peaks.push(rss.stop());
        await sleep(500);
      }
      return { s: summarizeRounds(runs), peak: Math.max(...peaks) };
    };

    // All connections busy (closed loop: each sends its next request when the last is answered).
    const busy = await fresh();
    const { s, peak } = await rounds(busy.server, c);
    const ok = s.errors === 0 && s.timeouts === 0 && s.non2xx === 0 && s.p99 < 1000 && peak < 350;
    // The reference under the same load tells what of it the stack itself cannot take.
    const referenceSpec: LoadSpec = { server: () => ctx.reference, connections: c, timeoutS: 10, path: '/constant' };
    await load(ctx, { ...referenceSpec, connections: active }, ctx.plan.warmupS);
    const referenceRuns: LoadResult[] = [];
    for (let r = 0; r < ctx.plan.rounds; r++) {
      referenceRuns.push(await load(ctx, referenceSpec, ctx.plan.durationS));
      await sleep(500);
    }
    const ref = summarizeRounds(referenceRuns);

    // The same number of open connections, most of them idle: what holding them costs, apart
    // from queueing (with every connection busy, latency is about connections / throughput).
    const held = await fresh();
    const host = new URL(held.server.url).host;
    const idle = await holdConnections(held.server.url, c - active, (i) => {
      const user = users[i % users.length];
      return `GET /api/projects/${user.projects[0]} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${user.token}\r\nConnection: keep-alive\r\n\r\n`;
    });
    let stillOpen = 0;
    let h: RoundsSummary;
    let heldPeak: number;
    try {
      ({ s: h, peak: heldPeak } = await rounds(held.server, active));
    } finally {
      stillOpen = idle.open();
      idle.close();
    }
    const heldOk = idle.errors === 0 && stillOpen === c - active && h.errors === 0 && h.non2xx === 0 && h.p99 < 1000 && heldPeak < 350;
    return [
      {
        ...rowOf(this.name, `app cached GET, ${c} connections all busy`, 'measured', c, s),
        target: '0 errors/timeouts, p99 < 1000 ms, RSS < 350 MB',
        met: ok,
        notes:
          `server RSS peak ${round(peak, 0)} MB (${round(busy.rssBefore, 0)} MB after warm-up); timeouts ${s.timeouts}; ` +
          `closed loop: latency ~ ${c} / req/s = ${round((c / s.reqPerSec) * 1000, 0)} ms, so p99 < 1 s needs well over ${c} req/s`,
      },
      {
        ...rowOf(this.name, `reference: bare Fastify, constant JSON, ${c} connections all busy`, 'reference', c, ref),
        notes: `timeouts ${ref.timeouts}`,
      },
      {
        ...rowOf(this.name, `app cached GET, ${active} busy + ${c - active} idle keep-alive connections`, 'check', active, h),
        target: '0 errors, p99 < 1000 ms, RSS < 350 MB',
        met: heldOk,
        notes: `${c - active} idle connections held open (${idle.errors} failed, ${stillOpen} still open at the end); server RSS peak ${round(heldPeak, 0)} MB (${round(held.rssBefore, 0)} MB after warm-up)`,
      },
    ];
  },
};

const poolExhausted: Scenario = {
  name: 'pool-exhausted',
  description: `GET /debug/db-test holds every pooled connection (DB_POOL_TIMEOUT_MS=${POOL_TIMEOUT_MS}); cached reads go on, uncached ones answer 503 in time`,
  servers: ['pool-timeout'],
  async run(ctx) {
    const server = await ctx.server('pool-timeout', { fresh: true });
    const owner = ctx.fixtures.users[0];
    const admin = ctx.fixtures.admin;
    const path = `/api/projects/${owner.projects[0]}`;
    const c = ctx.plan.connections;
    await getJson(`${server.url}/debug/pool-status`, auth(admin));
    const measureS = ctx.plan.durationS;
    const holdS = Math.ceil(measureS + POOL_TIMEOUT_MS / 1000 + 3);
    const free: LoadResult[] = [];
    const held: LoadResult[] = [];
    const burst: { status: number; ms: number }[] = [];
    const holdNotes: string[] = [];
    let cold = 0;
    for (let r = 0; r < ctx.plan.rounds; r++) {
      // Entries live CACHE_TTL_MS and TOKEN_CACHE_TTL_MS (30 s, less up to ~10 % jitter): a round
      // (free run, hold, held run, burst) must start with fresh ones, or they expire while the pool
      // is held and those reads need the database too. So: a new token (resolved once, then
      // cached) and a write to the project (invalidates its entry), then one read to cache it.
      const user: BenchUser = { ...owner, token: await login(server.url, owner) };
      const patched = await fetch(server.url + path, {
        method: 'PATCH',
        headers: { ...auth(user), 'content-type': 'application/json' },
        body: JSON.stringify({ description: `bench round ${r + 1} at ${new Date().toISOString()}` }),
      });
      if (patched.status !== 200) throw new Error(`pool-exhausted: PATCH answered ${patched.status}`);
      const spec: LoadSpec = { server: () => server, connections: c, path, headers: auth(user) };
      if (r === 0) await load(ctx, spec, ctx.plan.warmupS);
      else await getJson(server.url + path, auth(user));
      free.push(await load(ctx, spec, measureS));
      const hold = getJson(`${server.url}/debug/db-test?num_tests=${ctx.poolMax}&delay=${holdS}`, auth(admin));
      // Wait until every connection is checked out.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const status = await getJson(`${server.url}/debug/pool-status`, auth(admin));
        if (status.body.checked_out >= ctx.poolMax) break;
        if (Date.now() > deadline) throw new Error(`pool-exhausted: the pool never filled: ${JSON.stringify(status.body)}`);
        await sleep(20);
      }
      const heldStarted = Date.now();
      held.push(await load(ctx, spec, measureS));
      // Uncached reads: projects nobody has read yet, so no cache entry can answer them.
      const ids = ctx.fixtures.coldProjects.slice(cold, cold + ctx.plan.poolBurst);
      cold += ids.length;
      const answers = await Promise.all(
        ids.map(async (id) => {
          const t0 = performance.now();
          const res = await fetch(`${server.url}/api/projects/${id}`, { headers: auth(user), signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
          await res?.arrayBuffer();
          return { status: res?.status ?? 0, ms: performance.now() - t0 };
        }),
      );
      burst.push(...answers);
      if ((Date.now() - heldStarted) / 1000 > holdS) holdNotes.push(`round ${r + 1}: the hold ended before the burst finished`);
      const result = await hold;
      if (result.status !== 200 || result.body.summary?.succeeded !== ctx.poolMax) holdNotes.push(`round ${r + 1}: db-test ${result.status} ${JSON.stringify(result.body.summary)}`);
    }
    const f = summarizeRounds(free);
    const h = summarizeRounds(held);
    const ratio = pairedRatio(h.reqPerSecRounds, f.reqPerSecRounds).median;
    const limitMs = POOL_TIMEOUT_MS + 100;
    const burstMs = burst.map((b) => b.ms);
    const statuses: Record<string, number> = {};
    for (const b of burst) statuses[b.status] = (statuses[b.status] ?? 0) + 1;
    const burstOk = burst.length > 0 && burst.every((b) => b.status === 503 && b.ms <= limitMs) && holdNotes.length === 0;
    return [
      withTarget(rowOf(this.name, `app cached GET while db-test holds all ${ctx.poolMax} connections`, 'measured', c, h), ratio, 'same, pool free', { op: '>=', bound: 0.8 }, {
        notes: holdNotes.join('; ') || undefined,
      }),
      rowOf(this.name, 'baseline: cached GET, pool free', 'baseline', c, f),
      {
        scenario: this.name,
        label: `uncached GETs (distinct never-read projects) while the pool is held`,
        kind: 'check',
        connections: ctx.plan.poolBurst,
        p50: median(burstMs),
        p95: percentile(burstMs, 95),
        p99: percentile(burstMs, 99),
        max: Math.max(...burstMs),
        statusCodes: statuses,
        non2xx: burst.filter((b) => b.status < 200 || b.status > 299).length,
        errors: burst.filter((b) => b.status === 0).length,
        target: `all 503 within ${limitMs} ms`,
        met: burstOk,
        notes: `${burst.length} requests, status ${JSON.stringify(statuses)}, slowest ${round(Math.max(...burstMs), 0)} ms`,
      },
    ];
  },
};

export const SCENARIOS: readonly Scenario[] = [cachedGet, tracing, mixed, manyConnections, postActivity, uncachedGet, activities, poolExhausted, scaleWorkers, scaleNginx];
