// `npm run soak -- --minutes 10`: the built server under mixed load for a long while, with periodic
// pool exhaustion (GET /debug/db-test holding every connection) and cache flushes. Reports RSS and
// heap over time, the pool's checked_out after each phase, and errors. Passes when RSS grows less
// than 10 % after warm-up, no connection leaks (checked_out 0 after every phase) and no unexpected
// error (a 503 while the pool is deliberately exhausted is expected; anything else 5xx or a network
// error is not). `--seconds N` runs a short version (npm test runs one; its RSS figure is reported
// but not judged: a few seconds are all warm-up).
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './shared/child';
import { freePort, rssMb } from './shared/processes';

/** This file runs as dist-dev/tools/soak.js. */
const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist-dev', 'src', 'main.js');
const ADMIN = { email: 'soak@example.com', password: 'soak-admin-password' };
const WORKERS = 16;
const USERS = 10;
const PROJECTS_PER_USER = 5;
const POOL = { size: 4, overflow: 2, timeoutMs: 500 };
const WARMUP_PHASES = 2;
const RSS_GROWTH_LIMIT = 0.1;

const args = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const totalMs = (flag('seconds') ?? (flag('minutes') ?? 10) * 60) * 1000;
const short = totalMs < 60_000;
const phaseMs = Math.max(3_000, Math.min(60_000, totalMs / 10));
const log = (msg: string) => console.log(`soak: ${msg}`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

interface SoakUser {
  readonly token: string;
  readonly projects: string[];
}

/** A response's status and, when it is JSON, its body. */
interface Answer {
  readonly status: number;
  readonly json: { token?: string; id?: string; checked_out?: number } | undefined;
}

interface Phase {
  readonly phase: number;
  readonly events: string;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly ok: number;
  readonly expected503: number;
  readonly unexpected: number;
  readonly unexpectedSample: string;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly checkedOut: number | undefined;
}

async function main(): Promise<number> {
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.data', 'soak-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DB_POOL_SIZE: String(POOL.size),
    DB_MAX_OVERFLOW: String(POOL.overflow),
    DB_POOL_TIMEOUT_MS: String(POOL.timeoutMs),
    // Periodic pool exhaustion through /debug/db-test is part of the soak: no reserve.
    DEBUG_DB_TEST_RESERVE: '0',
    // The soak measures leaks and errors, not the limiter: limits far above the generated load.
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_PER_MINUTE: '100000000',
    RATE_LIMIT_ANON_PER_MINUTE: '100000000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000000',
    ...(process.env.DATABASE_URL
      ? { DATABASE_URL: process.env.DATABASE_URL }
      : { EMBEDDED_PG_DIR: join(dir, 'postgres'), EMBEDDED_PG_PORT: String(await freePort()) }),
  };
  const server = new Child('server', process.execPath, [MAIN], { env });
  const stopServer = async () => {
    await server.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopServer().then(() => process.exit(130)));

  try {
    await server.waitForHttp(`${base}/health/ready`, 60_000, 'server ready');
    const call = async (method: string, path: string, token?: string, body?: unknown): Promise<Answer> => {
      const res = await fetch(base + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, json: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Answer['json']) : undefined };
    };
    const admin = (await call('POST', '/api/auth/login', undefined, ADMIN)).json?.token;
    if (!admin) throw new Error('could not log in the soak admin');
    const users: SoakUser[] = [];
    for (let u = 0; u < USERS; u++) {
      const email = `soak-${u}-${Date.now()}@example.com`;
      await call('POST', '/api/users', admin, { email, password: 'soak-user-password' });
      const token = (await call('POST', '/api/auth/login', undefined, { email, password: 'soak-user-password' })).json?.token;
      if (!token) throw new Error(`could not log in soak user ${u}`);
      const projects: string[] = [];
      for (let p = 0; p < PROJECTS_PER_USER; p++) {
        const id = (await call('POST', '/api/projects', token, { name: `soak ${u}.${p}` })).json?.id;
        if (!id) throw new Error(`could not create a project for soak user ${u}`);
        projects.push(id);
      }
      users.push({ token, projects });
    }
    log(`server pid ${server.pid}, ${USERS} users x ${PROJECTS_PER_USER} projects, ${WORKERS} workers, phases of ${phaseMs / 1000} s, ${totalMs / 1000} s in all`);

    const phases: Phase[] = [];
    const deadline = Date.now() + totalMs;
    for (let phase = 1; Date.now() < deadline; phase++) {
      const exhaust = phase % 3 === 0;
      const flush = phase % 2 === 0;
      const counts = { requests: 0, ok: 0, expected503: 0, unexpected: 0 };
      const unexpected: (number | string)[] = [];
      let exhausting = false;
      const end = Date.now() + phaseMs;
      const worker = async (w: number) => {
        for (let i = 0; Date.now() < end; i++) {
          const user = users[(w + i) % users.length];
          const project = user.projects[i % user.projects.length];
          const roll = (w * 7919 + i * 104729) % 100;
          try {
            const res =
              roll < 80
                ? await call('GET', `/api/projects/${project}`, user.token)
                : roll < 95
                  ? await call('GET', `/api/projects?limit=${1 + (i % 20)}`, user.token)
                  : await call('POST', `/api/projects/${project}/activities`, user.token, { agent: 'soak', action: `step-${i}` });
            counts.requests++;
            if (res.status < 400) counts.ok++;
            else if (res.status === 503 && exhausting) counts.expected503++;
            else {
              counts.unexpected++;
              if (unexpected.length < 5) unexpected.push(res.status);
            }
          } catch (err) {
            counts.unexpected++;
            if (unexpected.length < 5) unexpected.push((err as { cause?: { code?: string } }).cause?.code ?? message(err));
          }
        }
      };
      const started = Date.now();
      const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
      if (flush) await call('POST', '/debug/cache/flush', admin);
      if (exhaust) {
        await sleep(phaseMs / 4);
        exhausting = true;
        await call('GET', `/debug/db-test?num_tests=${POOL.size + POOL.overflow}&delay=1.5`, admin);
        // Requests already waiting when the holders finish may still time out a moment later.
        await sleep(POOL.timeoutMs + 200);
        exhausting = false;
      }
      await Promise.all(load);
      const seconds = (Date.now() - started) / 1000;
      const pool = (await call('GET', '/debug/pool-status', admin)).json;
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
      const heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? 0);
      const row: Phase = {
        phase,
        events: [exhaust ? 'pool exhausted' : '', flush ? 'cache flushed' : ''].filter(Boolean).join(', ') || '-',
        seconds: Math.round(seconds * 10) / 10,
        requests: counts.requests,
        rps: Math.round(counts.requests / seconds),
        ok: counts.ok,
        expected503: counts.expected503,
        unexpected: counts.unexpected,
        unexpectedSample: unexpected.join(' '),
        rssMb: Math.round(rssMb(server.pid)),
        heapMb: Math.round(heap / 1048576),
        checkedOut: pool?.checked_out,
      };
      phases.push(row);
      log(
        `phase ${row.phase} (${row.events}): ${row.requests} requests, ${row.rps}/s, ${row.expected503} expected 503, ` +
          `${row.unexpected} unexpected ${row.unexpectedSample}; RSS ${row.rssMb} MB, heap ${row.heapMb} MB, checked_out ${row.checkedOut}`,
      );
    }

    console.log('\n| phase | events | s | requests | req/s | expected 503 | unexpected | RSS MB | heap MB | checked_out |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of phases) {
      console.log(`| ${r.phase} | ${r.events} | ${r.seconds} | ${r.requests} | ${r.rps} | ${r.expected503} | ${r.unexpected} | ${r.rssMb} | ${r.heapMb} | ${r.checkedOut} |`);
    }
    const leaks = phases.filter((r) => r.checkedOut !== 0).length;
    const errors = phases.reduce((n, r) => n + r.unexpected, 0);
    const afterWarmup = phases[Math.min(WARMUP_PHASES, phases.length - 1)].rssMb;
    const last = phases[phases.length - 1].rssMb;
    const growth = (last - afterWarmup) / afterWarmup;
    const rssOk = short || growth < RSS_GROWTH_LIMIT;
    console.log(
      `\nsoak: RSS after warm-up ${afterWarmup} MB, at the end ${last} MB (${(growth * 100).toFixed(1)} %${short ? ', not judged in a short run' : ''}); ` +
        `phases with connections left checked out: ${leaks}; unexpected errors: ${errors}`,
    );
    const pass = rssOk && leaks === 0 && errors === 0;
    console.log(`soak: ${pass ? 'PASS' : 'FAIL'}`);
    return pass ? 0 : 1;
  } catch (err) {
    console.error(`soak: ${message(err)}`);
    return 1;
  } finally {
    await stopServer();
  }
}

void main().then((code) => process.exit(code));
