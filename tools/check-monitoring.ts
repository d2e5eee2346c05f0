// npm run check:monitoring
//
// Checks docker/prometheus/alerts.yml with `promtool check rules`, then runs the built server
// (dist-dev/src/main.js, compiled with this tool by the npm script) under load, has a real
// Prometheus scrape it every second with the alert rules loaded, and evaluates every expression of
// the Grafana dashboard and every alert rule against it. Fails (exit 1) when an expression is invalid or returns no series
// after traffic. Skips (exit 0, loudly) when `promtool` or `prometheus` is not on PATH, unless
// CHECK_MONITORING_REQUIRED=1.
//
// Alert expressions end in a threshold (`x > 0.01`): while the alert does not fire they are empty by
// design, so they are evaluated with `bool` on their top-level comparison (`x > bool 0.01`), which
// keeps every series of the left-hand side; that must not be empty.
//
// The server runs with tracing on, exporting to an OTLP receiver here, and Prometheus with exemplar
// storage: the latency histograms' exemplars must arrive through /metrics (OpenMetrics) and name
// traces whose spans the receiver got, and the dashboard panels that show exemplars must query them.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { Child } from './shared/child';
import { OtlpReceiver } from './shared/otlp-receiver';
import { freePort } from './shared/processes';

/** This file runs as dist-dev/tools/check-monitoring.js. */
const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist-dev', 'src', 'main.js');
const ALERTS = join(ROOT, 'docker', 'prometheus', 'alerts.yml');
const PROM_CONFIG = join(ROOT, 'docker', 'prometheus', 'prometheus.yml');
const DASHBOARD = join(ROOT, 'docker', 'grafana', 'dashboards', 'projects-backend.json');
const JOB = 'projects-backend';
const ADMIN_EMAIL = 'monitoring-check@example.com';
const ADMIN_PASSWORD = 'monitoring-check-password';

const WARMUP_MS = 12_000; // traffic while Prometheus scrapes before the first evaluation
const RETRY_MS = 20_000; // how long empty expressions are retried while traffic goes on
/** The histograms whose buckets carry a trace exemplar (src/monitoring/metrics.service.ts). */
const EXEMPLAR_SERIES = ['http_request_duration_seconds_bucket', 'db_query_duration_seconds_bucket'];

const log = (msg: string) => console.log(`check:monitoring: ${msg}`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------
// Helpers

function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return join(dir, bin);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** SIGTERM, then SIGKILL after `graceMs` (said in the log). Resolves with the exit code or signal. */
async function stopChild(child: Child, graceMs: number): Promise<string> {
  const { killed } = await child.stop('SIGTERM', graceMs);
  if (killed) log(`${child.name} did not stop within ${graceMs} ms of SIGTERM: SIGKILL`);
  return String(child.exitStatus);
}

// ---------------------------------------------------------------------------------------------
// Expressions

/** A Grafana panel, as much of it as this check reads. */
interface Panel {
  readonly type?: string;
  readonly title?: string;
  readonly panels?: Panel[];
  readonly targets?: { expr?: unknown; refId?: string }[];
}

interface Dashboard {
  readonly panels?: Panel[];
  readonly rows?: { title?: string; panels?: Panel[] }[];
  readonly templating?: { list?: { type?: string; name?: string; query?: string | { query?: string } }[] };
}

/** One expression to evaluate, and (once evaluated) what Prometheus said. */
interface Row {
  readonly source: string;
  readonly expr: string;
  readonly kind: 'dashboard' | 'alert';
  /** What is sent to Prometheus: variables substituted, `bool` added to an alert's comparison. */
  checked?: string;
  unknownVariable?: boolean;
  rule?: LoadedRule;
  state?: QueryState;
  detail?: string;
  note?: string;
}

/** Every target `expr` of the dashboard, with its panel (and row) title. */
function dashboardExpressions(file: string): Row[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
  const out: Row[] = [];
  const visitPanel = (panel: Panel, row: string | undefined) => {
    if (panel.type === 'row') {
      for (const p of panel.panels ?? []) visitPanel(p, panel.title);
      return;
    }
    for (const t of panel.targets ?? []) {
      if (typeof t.expr !== 'string' || t.expr.trim() === '') continue;
      out.push({
        source: `panel "${panel.title ?? '(untitled)'}" ${t.refId ?? ''}`.trim() + (row ? ` [row ${row}]` : ''),
        expr: t.expr,
        kind: 'dashboard',
      });
    }
    for (const p of panel.panels ?? []) visitPanel(p, row);
  };
  let row: string | undefined;
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === 'row') row = panel.title;
    visitPanel(panel, panel.type === 'row' ? panel.title : row);
  }
  // Old-style dashboards: rows[].panels
  for (const r of dashboard.rows ?? []) for (const p of r.panels ?? []) visitPanel(p, r.title);
  // Template variables that are PromQL queries (query_result(...), or plain expressions)
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (typeof q !== 'string' || q.trim() === '') continue;
    const m = /^\s*query_result\(([\s\S]*)\)\s*$/.exec(q);
    if (m) out.push({ source: `variable $${v.name}`, expr: m[1], kind: 'dashboard' });
    // label_values(...) / metrics(...) are Grafana functions, not PromQL: not evaluated.
  }
  return out;
}

/** Grafana's built-in interval variables; any other `$var` makes the expression unevaluable here. */
function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__interval|\$\{__interval\}/g, '15s')
    .replace(/\$__range|\$\{__range\}/g, '5m');
}

/**
 * The alert expression with `bool` added to its top-level comparison operators, so that it
 * returns the compared value of every series instead of only those past the threshold. Top level:
 * outside parentheses, braces, brackets and strings. Returns undefined when there is none.
 */
export function withBool(expr: string): string | undefined {
  let depth = 0;
  let quote: string | undefined;
  const inserts: number[] = [];
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl === -1 ? expr.length : nl;
    } else if (depth === 0) {
      const two = expr.slice(i, i + 2);
      let len = 0;
      if (two === '==' || two === '!=' || two === '>=' || two === '<=') len = 2;
      else if (c === '>' || c === '<') len = 1;
      if (len > 0) {
        const after = expr.slice(i + len);
        if (!/^\s*bool\b/.test(after)) inserts.push(i + len);
        i += len - 1;
      }
    }
  }
  if (inserts.length === 0) return undefined;
  let out = expr;
  for (const at of inserts.reverse()) out = `${out.slice(0, at)} bool${out.slice(at)}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Traffic

/** A response's status and parsed JSON body (undefined when there is none or it is not JSON). */
interface Answer {
  readonly status: number;
  readonly json: { token?: string; id?: string } | undefined;
}

class Traffic {
  readonly statuses = new Map<number, number>();
  readonly errors: string[] = [];
  stopped = false;
  private token = '';
  private projectId = '';

  constructor(private readonly base: string) {}

  async call(method: string, path: string, { token, body }: { token?: string; body?: unknown } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
      let json: Answer['json'];
      try {
        json = text ? (JSON.parse(text) as Answer['json']) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    } catch (err) {
      this.errors.push(`${method} ${path}: ${message(err)}`);
      return { status: 0, json: undefined };
    }
  }

  summary(): string {
    const codes = [...this.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}x${n}`);
    return `${codes.join(' ')}${this.errors.length ? `, ${this.errors.length} network errors` : ''}`;
  }

  /** Login (and the login rate limit), a project: what the loop needs. */
  async setup(): Promise<void> {
    const login = await this.call('POST', '/api/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    if (login.status !== 200 && login.status !== 201) throw new Error(`admin login answered ${login.status}: ${JSON.stringify(login.json)}`);
    this.token = login.json?.token ?? '';
    // RATE_LIMIT_LOGIN_PER_MINUTE=2: these end in 429s (rate_limit_rejections_total{tier="login"}).
    let rejected = 0;
    for (let i = 0; i < 4; i++) {
      const r = await this.call('POST', '/api/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      if (r.status === 429) rejected++;
    }
    if (rejected === 0) log('warning: no login was rate limited (expected 429s with RATE_LIMIT_LOGIN_PER_MINUTE=2)');
    const project = await this.call('POST', '/api/projects', { token: this.token, body: { name: 'monitoring check', description: 'traffic' } });
    if (project.status !== 201 && project.status !== 200) throw new Error(`create project answered ${project.status}: ${JSON.stringify(project.json)}`);
    this.projectId = project.json?.id ?? '';
  }

  /** Until stop(): reads (cache hits and misses), writes, activities, 404s, and pool exhaustion. */
  async loop(): Promise<void> {
    const t = this.token;
    const p = this.projectId;
    for (let i = 0; !this.stopped; i++) {
      await this.call('GET', `/api/projects/${p}`, { token: t });
      await this.call('GET', `/api/projects/${p}`, { token: t });
      await this.call('GET', `/api/projects/${p}?include=activities`, { token: t });
      await this.call('GET', '/api/projects', { token: t });
      await this.call('GET', '/api/projects', { token: t });
      await Promise.all(
        Array.from({ length: 3 }, (_, k) => this.call('POST', `/api/projects/${p}/activities`, { token: t, body: { agent: 'checker', action: 'tick', payload: { i, k } } })),
      );
      await this.call('POST', `/api/projects/${p}/activities/batch`, {
        token: t,
        body: { items: Array.from({ length: 5 }, (_, k) => ({ agent: 'checker', action: 'batch', payload: { i, k } })) },
      });
      await this.call('GET', `/api/projects/${p}/activities`, { token: t });
      // insert / update / delete statements (db_query_duration_seconds{operation}); invalidations.
      const extra = await this.call('POST', '/api/projects', { token: t, body: { name: `scratch ${i}` } });
      if (extra.json?.id) {
        await this.call('PATCH', `/api/projects/${extra.json.id}`, { token: t, body: { status: 'archived' } });
        await this.call('DELETE', `/api/projects/${extra.json.id}`, { token: t });
      }
      await this.call('GET', '/no-such-route'); // 404, route "unmatched"
      await this.call('GET', `/api/projects/00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, { token: t }); // 404
      await this.call('GET', '/api/auth/me'); // 401
      // Past RATE_LIMIT_LOGIN_PER_MINUTE: 429s while Prometheus scrapes, so their rate is not 0.
      await this.call('POST', '/api/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      if (i % 4 === 0) {
        // 5 connections held for 1 s on a pool of 2 + 1 overflow with a 200 ms acquire timeout:
        // waiters (pending), acquire timeouts, and 503s for the requests that come meanwhile.
        await Promise.all([
          this.call('GET', '/debug/db-test?num_tests=5&delay=1', { token: t }),
          sleep(100).then(() =>
            Promise.all(Array.from({ length: 3 }, (_, k) => this.call('POST', '/api/projects', { token: t, body: { name: `pool pressure ${i}.${k}` } }))),
          ),
        ]);
      }
      await sleep(150);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Prometheus queries

type QueryState = 'OK' | 'EMPTY' | 'INVALID';

interface QueryOutcome {
  readonly state: QueryState;
  readonly detail: string;
}

/** A series of an instant (`value`) or range (`values`) query result. */
interface Series {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
  readonly values: [number, string][];
}

/** Prometheus's HTTP API envelope. */
interface ApiAnswer<T> {
  readonly status: 'success' | 'error';
  readonly data: T;
  readonly errorType?: string;
  readonly error?: string;
}

type QueryData =
  | { resultType: 'scalar' | 'string'; result: [number, string] }
  | { resultType: 'vector' | 'matrix'; result: Series[] };

interface LoadedRule {
  readonly name: string;
  readonly query: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  readonly state?: string;
  readonly group: string;
  readonly file: string;
}

async function promQuery(base: string, query: string): Promise<QueryOutcome> {
  try {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as ApiAnswer<QueryData>;
    if (body.status !== 'success') return { state: 'INVALID', detail: `${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${res.status}`}` };
    const data = body.data;
    if (data.resultType !== 'vector' && data.resultType !== 'matrix') return { state: 'OK', detail: `${data.resultType} ${data.result[1]}` };
    const { resultType, result } = data;
    if (result.length === 0) return { state: 'EMPTY', detail: 'no series' };
    const label = (m: Record<string, string>) => Object.entries(m).filter(([k]) => k !== '__name__' && k !== 'job' && k !== 'instance').map(([k, v]) => `${k}=${v}`).join(',');
    const values = result.slice(0, 4).map((s) => {
      const v = resultType === 'matrix' ? `${s.values.length} samples` : s.value[1];
      const l = label(s.metric);
      return l ? `${l}: ${v}` : v;
    });
    const nan = resultType === 'vector' && result.some((s) => s.value[1] === 'NaN');
    const detail = `${result.length} series (${values.join('; ')}${result.length > 4 ? '; ...' : ''})`;
    return { state: 'OK', detail: nan ? `${detail}; NaN: no observations in the window for some series` : detail };
  } catch (err) {
    return { state: 'INVALID', detail: `query failed: ${message(err)}` };
  }
}

/** Every rule Prometheus loaded from the rule files: its own YAML parser, not a hand-made one. */
async function loadedRules(base: string): Promise<LoadedRule[]> {
  const res = await fetch(`${base}/api/v1/rules`);
  const body = (await res.json()) as ApiAnswer<{ groups: { name: string; file: string; rules: Omit<LoadedRule, 'group' | 'file'>[] }[] }>;
  if (body.status !== 'success') throw new Error(`/api/v1/rules: ${body.error}`);
  return body.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name, file: g.file })));
}

function printTable(rows: readonly Row[]): void {
  const state = (r: Row) => r.state ?? '';
  const w1 = Math.max(...rows.map((r) => state(r).length), 6);
  const w2 = Math.max(...rows.map((r) => r.source.length), 6);
  console.log('');
  console.log(`${'STATUS'.padEnd(w1)}  ${'SOURCE'.padEnd(w2)}  EXPRESSION`);
  for (const r of rows) {
    console.log(`${state(r).padEnd(w1)}  ${r.source.padEnd(w2)}  ${r.expr.replace(/\s*\n\s*/g, ' ')}`);
    if (r.checked && r.checked !== r.expr) console.log(`${''.padEnd(w1)}  ${''.padEnd(w2)}  evaluated as: ${r.checked.replace(/\s*\n\s*/g, ' ')}`);
    console.log(`${''.padEnd(w1)}  ${''.padEnd(w2)}  -> ${r.detail}${r.note ? `; ${r.note}` : ''}`);
  }
  console.log('');
}

// ---------------------------------------------------------------------------------------------
/** Dashboard targets that ask Grafana for exemplars: each must query a histogram that has them. */
export function exemplarTargetProblems(dashboard: { panels?: { title?: string; targets?: { expr?: string; exemplar?: boolean }[] }[] }): string[] {
  const targets = (dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).filter((t) => t.exemplar === true).map((t) => ({ panel: p.title ?? '?', expr: t.expr ?? '' })));
  if (targets.length === 0) return ['no panel target has exemplar: true'];
  return targets.filter((t) => !EXEMPLAR_SERIES.some((s) => t.expr.includes(s))).map((t) => `panel "${t.panel}" asks for exemplars of ${t.expr}, which has none`);
}

interface ExemplarAnswer {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/** The trace ids of `series`' exemplars Prometheus stored in the last `seconds`. */
async function exemplarTraceIds(base: string, series: string, seconds: number): Promise<string[]> {
  const end = Date.now() / 1000;
  const res = await fetch(`${base}/api/v1/query_exemplars?query=${encodeURIComponent(series)}&start=${end - seconds}&end=${end}`);
  const body = (await res.json()) as ApiAnswer<ExemplarAnswer[] | null>;
  if (body.status !== 'success') throw new Error(`query_exemplars ${series}: ${body.error}`);
  return (body.data ?? []).flatMap((s) => s.exemplars.map((e) => e.labels.trace_id)).filter((id): id is string => id !== undefined);
}

// Main

const cleanups: (() => unknown)[] = [];
let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`cleanup: ${message(err)}`);
      }
    }
  })();
  return cleaningUp;
}
async function main(): Promise<number> {
  const promtool = onPath('promtool');
  const prometheus = onPath('prometheus');
  if (!promtool || !prometheus) {
    const missing = [!promtool && 'promtool', !prometheus && 'prometheus'].filter(Boolean).join(' and ');
    const msg = `SKIPPED: ${missing} not found on PATH, the dashboard and alert expressions were NOT checked (Debian/Ubuntu: apt-get install prometheus)`;
    if (process.env.CHECK_MONITORING_REQUIRED === '1') {
      log(msg.replace('SKIPPED', 'FAILED (CHECK_MONITORING_REQUIRED=1)'));
      return 1;
    }
    console.log('');
    log(`*** ${msg} ***`);
    console.log('');
    return 0;
  }

  // 1. promtool
  for (const args of [['check', 'rules', ALERTS], ['check', 'config', PROM_CONFIG]]) {
    const r = spawnSync(promtool, args, { encoding: 'utf8' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    log(`promtool ${args.join(' ').replace(ROOT + '/', '')}: ${r.status === 0 ? 'ok' : 'FAILED'}`);
    if (r.status !== 0) {
      console.log(out.replace(/^/gm, '    '));
      return 1;
    }
  }

  if (!existsSync(MAIN)) {
    log(`${MAIN} is missing: build first (npx tsc -p tools/tsconfig.json; npm run check:monitoring does it)`);
    return 1;
  }

  const exemplarTargets = exemplarTargetProblems(JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof exemplarTargetProblems>[0]);
  if (exemplarTargets.length > 0) {
    log(`FAILED: dashboard exemplars: ${exemplarTargets.join('; ')}`);
    return 1;
  }

  // 2. the server, tracing to a receiver of ours
  const receiver = new OtlpReceiver();
  const otlpEndpoint = await receiver.start();
  cleanups.push(() => receiver.stop());
  const appPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    PORT: String(appPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CURSOR_SECRET: randomBytes(24).toString('base64url'),
    CACHE_ENABLED: 'true',
    DEBUG_ROUTES_ENABLED: 'true',
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_LOGIN_PER_MINUTE: '2',
    // The traffic itself must not be throttled; the login tier provides the 429s.
    RATE_LIMIT_PER_SECOND: '10000',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_ANON_PER_MINUTE: '1000000',
    DB_POOL_SIZE: '2',
    DB_MAX_OVERFLOW: '1',
    DB_POOL_TIMEOUT_MS: '200',
    DB_SLOW_QUERY_MS: '100',
    ACTIVITY_BATCH_ENABLED: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '500',
  };
  let database: string;
  if (process.env.DATABASE_URL) {
    // A scratch database on that server, dropped afterwards: the run leaves no rows behind.
    const name = `check_monitoring_${randomBytes(5).toString('hex')}`;
    const adminUrl = new URL(process.env.DATABASE_URL);
    const serverUrl = new URL(process.env.DATABASE_URL);
    adminUrl.pathname = '/postgres';
    try {
      const client = new Client({ connectionString: adminUrl.toString() });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      serverUrl.pathname = `/${name}`;
      env.DATABASE_URL = serverUrl.toString();
      database = `scratch database ${name} on DATABASE_URL's server`;
      cleanups.push(async () => {
        const c = new Client({ connectionString: adminUrl.toString() });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      });
    } catch (err) {
      log(`warning: could not create a scratch database (${message(err)}); using DATABASE_URL itself`);
      env.DATABASE_URL = process.env.DATABASE_URL;
      database = 'DATABASE_URL';
    }
  } else {
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, '.data', 'check-monitoring-'));
    chmodSync(dir, 0o755); // as root, PostgreSQL runs as its own user and must get in
    const pgDir = join(dir, 'postgres');
    env.EMBEDDED_PG_DIR = pgDir;
    env.EMBEDDED_PG_PORT = String(await freePort());
    database = `embedded PostgreSQL on 127.0.0.1:${env.EMBEDDED_PG_PORT}`;
    cleanups.push(async () => {
      // A server killed without its shutdown leaves PostgreSQL running: stop it by its pid.
      const pidFile = join(pgDir, 'postmaster.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (Number.isInteger(pid) && pid > 0) {
          try {
            process.kill(pid, 'SIGINT');
            for (let i = 0; i < 100; i++) {
              process.kill(pid, 0);
              await sleep(100);
            }
          } catch {
            // gone
          }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }

  log(`starting the server on 127.0.0.1:${appPort} (${database})`);
  const server = new Child('server', process.execPath, [MAIN], { cwd: ROOT, env });
  cleanups.push(async () => {
    log(`server stopped (${await stopChild(server, 15_000)})`);
  });
  const appBase = `http://127.0.0.1:${appPort}`;
  await server.waitForHttp(`${appBase}/health/ready`, 90_000, 'server ready');
  log('server ready');

  // 3. traffic, started before Prometheus so that its first scrapes already see it
  const traffic = new Traffic(appBase);
  await traffic.setup();
  const loop = traffic.loop().catch((err: unknown) => traffic.errors.push(`loop: ${message(err)}`));
  cleanups.push(async () => {
    traffic.stopped = true;
    await loop;
    log(`traffic: ${traffic.summary()}`);
  });

  // 4. Prometheus
  const promDir = mkdtempSync(join(tmpdir(), 'check-monitoring-prom-'));
  cleanups.push(() => rmSync(promDir, { recursive: true, force: true }));
  const promPort = await freePort();
  const configFile = join(promDir, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(ALERTS)}`,
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      '    scrape_interval: 1s',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${appPort}"]`,
      '',
    ].join('\n'),
  );
  const promBase = `http://127.0.0.1:${promPort}`;
  log(`starting Prometheus on 127.0.0.1:${promPort}`);
  const prom = new Child('prometheus', prometheus, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(promDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
    // Exemplars are kept only with this; Prometheus then also asks /metrics for OpenMetrics first.
    '--enable-feature=exemplar-storage',
  ], { cwd: promDir });
  cleanups.push(async () => {
    log(`Prometheus stopped (${await stopChild(prom, 10_000)})`);
  });
  await prom.waitForHttp(`${promBase}/-/ready`, 30_000, 'Prometheus ready');
  log(`Prometheus ready; scraping every 1 s under traffic for ${WARMUP_MS / 1000} s`);
  await sleep(WARMUP_MS);

  // 5. the expressions
  const rows: Row[] = dashboardExpressions(DASHBOARD).map((e) => {
    const checked = substituteGrafanaVariables(e.expr);
    return { ...e, checked, unknownVariable: /\$\w|\$\{/.test(checked) };
  });
  const rules = await loadedRules(promBase);
  const alertNames = [...readFileSync(ALERTS, 'utf8').matchAll(/^\s*-\s*(?:alert|record):\s*["']?([^"'\s#]+)/gm)].map((m) => m[1]);
  if (rules.length !== alertNames.length) {
    log(`Prometheus loaded ${rules.length} rules, ${ALERTS} names ${alertNames.length}: ${alertNames.join(', ')}`);
    return 1;
  }
  for (const r of rules) {
    const bool = r.type === 'alerting' ? withBool(r.query) : undefined;
    rows.push({ source: `${r.type === 'alerting' ? 'alert' : 'record'} ${r.name}`, expr: r.query, checked: bool ?? r.query, kind: 'alert', rule: r });
  }
  log(`${rows.length} expressions: ${rows.filter((r) => r.kind === 'dashboard').length} from the dashboard, ${rules.length} alert rules`);

  const evaluate = async (row: Row) => {
    if (row.unknownVariable) {
      Object.assign(row, { state: 'INVALID', detail: 'uses a dashboard variable this check cannot substitute' });
      return;
    }
    const res = await promQuery(promBase, row.checked ?? row.expr);
    Object.assign(row, res);
    if (row.kind === 'alert' && row.checked !== row.expr && row.state !== 'INVALID') {
      const full = await promQuery(promBase, row.expr);
      if (full.state === 'INVALID') Object.assign(row, full);
      else if (row.state === 'OK') row.note = full.state === 'OK' ? 'condition true now' : 'condition false now';
    }
  };
  await Promise.all(rows.map(evaluate));
  const deadline = Date.now() + RETRY_MS;
  while (rows.some((r) => r.state === 'EMPTY') && Date.now() < deadline) {
    await sleep(2_000);
    await Promise.all(rows.filter((r) => r.state === 'EMPTY').map(evaluate));
  }

  // Rule evaluation errors (e.g. many-to-many matching) only show in the rule's health.
  for (const r of await loadedRules(promBase)) {
    const row = rows.find((x) => x.rule?.name === r.name && x.rule?.group === r.group);
    if (row && r.health === 'err') Object.assign(row, { state: 'INVALID', detail: `rule evaluation failed: ${r.lastError}` });
    else if (row && r.type === 'alerting' && row.state === 'OK') row.note = `${row.note ? `${row.note}, ` : ''}rule ${r.state}`;
  }

  // 6. exemplars: stored by Prometheus, pointing at traces the receiver got
  for (const series of EXEMPLAR_SERIES) {
    const row: Row = { source: `exemplars ${series}`, expr: `query_exemplars(${series})`, kind: 'dashboard' };
    rows.push(row);
    try {
      const ids = new Set(await exemplarTraceIds(promBase, series, 300));
      const traced = () => [...ids].filter((id) => receiver.spans.some((s) => s.traceId === id)).length;
      for (let i = 0; i < 10 && ids.size > 0 && traced() === 0; i++) await sleep(500);
      Object.assign(
        row,
        ids.size === 0
          ? { state: 'EMPTY', detail: 'no exemplars stored' }
          : traced() === 0
            ? { state: 'INVALID', detail: `${ids.size} trace ids, none among the ${receiver.spans.length} spans received` }
            : { state: 'OK', detail: `${ids.size} trace ids, ${traced()} of them received as spans` },
      );
    } catch (err) {
      Object.assign(row, { state: 'INVALID', detail: message(err) });
    }
  }

  printTable(rows);
  const failed = rows.filter((r) => r.state !== 'OK');
  if (failed.length > 0) {
    log(`FAILED: ${failed.length} of ${rows.length} expressions ${failed.map((r) => `${r.source} (${r.state})`).join('; ')}`);
    if (!server.running) console.log(`server output:\n${server.tail()}`);
    if (!prom.running) console.log(`Prometheus output:\n${prom.tail()}`);
    return 1;
  }
  log(`OK: all ${rows.length} expressions valid and returning series`);
  return 0;
}

async function run(): Promise<never> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    code = 1;
  } finally {
    await cleanup();
  }
  process.exit(code);
}

if (require.main === module) void run();
