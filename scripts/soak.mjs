#!/usr/bin/env node
// `npm run soak -- --minutes 10`: the built server under mixed load for a long while, with periodic
// pool exhaustion (GET /debug/db-test holding every connection) and cache flushes. Reports RSS and
// heap over time, the pool's checked_out after each phase, and errors. Passes when RSS grows less
// than 10 % after warm-up, no connection leaks (checked_out 0 after every phase) and no unexpected
// error (a 503 while the pool is deliberately exhausted is expected; anything else 5xx or a network
// error is not). `--seconds N` runs a short version (npm test runs one; its RSS figure is reported
// but not judged: a few seconds are all warm-up).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const ADMIN = { email: 'soak@example.com', password: 'soak-admin-password' };
const WORKERS = 16;
const USERS = 10;
const PROJECTS_PER_USER = 5;
const POOL = { size: 4, overflow: 2, timeoutMs: 500 };
const WARMUP_PHASES = 2;
const RSS_GROWTH_LIMIT = 0.1;

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const totalMs = (flag('seconds') ?? (flag('minutes') ?? 10) * 60) * 1000;
const short = totalMs < 60_000;
const phaseMs = Math.max(3_000, Math.min(60_000, totalMs / 10));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`soak: ${msg}`);

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

async function main() {
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.data', 'soak-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
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
  const server = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (c) => (stderr += c));
  const stopServer = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopServer().then(() => process.exit(130)));

  try {
    for (let waited = 0; ; waited += 200) {
      if (server.exitCode !== null) throw new Error(`server exited (${server.exitCode}): ${stderr}`);
      const ok = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (waited > 60_000) throw new Error('server not ready within 60 s');
      await sleep(200);
    }
    const call = async (method, path, token, body) => {
      const res = await fetch(base + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
    };
    const admin = (await call('POST', '/api/auth/login', undefined, ADMIN)).json.token;
    const users = [];
    for (let u = 0; u < USERS; u++) {
      const email = `soak-${u}-${Date.now()}@example.com`;
      await call('POST', '/api/users', admin, { email, password: 'soak-user-password' });
      const token = (await call('POST', '/api/auth/login', undefined, { email, password: 'soak-user-password' })).json?.token;
      if (!token) throw new Error(`could not log in soak user ${u}`);
      const projects = [];
      for (let p = 0; p < PROJECTS_PER_USER; p++) projects.push((await call('POST', '/api/projects', token, { name: `soak ${u}.${p}` })).json.id);
      users.push({ token, projects });
    }
    log(`server pid ${server.pid}, ${USERS} users x ${PROJECTS_PER_USER} projects, ${WORKERS} workers, phases of ${phaseMs / 1000} s, ${totalMs / 1000} s in all`);

    const phases = [];
    const deadline = Date.now() + totalMs;
    for (let phase = 1; Date.now() < deadline; phase++) {
      const exhaust = phase % 3 === 0;
      const flush = phase % 2 === 0;
      const counts = { requests: 0, ok: 0, expected503: 0, unexpected: 0 };
      const unexpected = [];
      let exhausting = false;
      const end = Date.now() + phaseMs;
      const worker = async (w) => {
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
            if (unexpected.length < 5) unexpected.push(err.cause?.code ?? err.message);
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
      const row = {
        phase,
        events: [exhaust ? 'pool exhausted' : '', flush ? 'cache flushed' : ''].filter(Boolean).join(', ') || '-',
        seconds: Math.round(seconds * 10) / 10,
        requests: counts.requests,
        rps: Math.round(counts.requests / seconds),
        ok: counts.ok,
        expected503: counts.expected503,
        unexpected: counts.unexpected,
        unexpectedSample: unexpected.join(' '),
        rssMb: rssMb(server.pid),
        heapMb: Math.round(heap / 1048576),
        checkedOut: pool.checked_out,
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
    await stopServer();
    process.exit(pass ? 0 : 1);
  } catch (err) {
    console.error(`soak: ${err.message}`);
    await stopServer();
    process.exit(1);
  }
}

await main();
