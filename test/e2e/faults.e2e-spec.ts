import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { CacheService } from '../../src/cache/cache.service';
import { AppConfig } from '../../src/config/app-config';
import { migrate } from '../../src/database/migrate';
import { PoolObserver } from '../../src/database/pool-observer';
import { DatabaseProcess } from '../support/database-process';
import { recordFigure } from '../support/figures';
import { aUser, createProject } from '../support/factories';
import { freePort } from '../support/server-process';
import { bootApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/eventually';

describe('database down during traffic (own embedded PostgreSQL, stopped and started)', () => {
  let dir: string;
  let postgres: DatabaseProcess;
  let sut: TestApp;

  beforeAll(async () => {
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    dir = mkdtempSync(join(process.cwd(), '.data', 'faults-'));
    chmodSync(dir, 0o755);
    postgres = new DatabaseProcess(join(dir, 'pg'), await freePort());
    const url = await postgres.start();
    await migrate(AppConfig.fromEnv({}), url);
    sut = await bootApp({ DB_POOL_TIMEOUT_MS: '1000', DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' }, { url });
  }, 60_000);

  afterAll(async () => {
    await sut?.close();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails fast with 503, keeps cached reads and the process up, and recovers without a restart', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user);
    const cachedUrl = `/api/projects/${project.id}`;
    await sut.app.inject({ method: 'GET', url: cachedUrl, headers: user.headers });
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const res = await sut.app.inject({ method: 'GET', url: `/api/projects?limit=${(i % 90) + 1}`, headers: user.headers });
        statuses.push(res.statusCode);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    try {
      await postgres.stop();
      const ready = await waitFor(() => sut.app.inject({ method: 'GET', url: '/health/ready' }), (r) => r.statusCode === 503, 2_000);
      expect(ready.ms).toBeLessThan(2_000);
      recordFigure('database stopped: readiness 503 after', ready.ms, 'ms');

      const started = Date.now();
      const uncached = await sut.app.inject({ method: 'POST', url: '/api/projects', headers: user.headers, payload: { name: 'while down' } });
      const failedAfter = Date.now() - started;
      expect(failedAfter).toBeLessThan(1_000 + 500);
      expect(uncached.statusCode).toBe(503);
      recordFigure('database stopped: a write answered 503 after', failedAfter, 'ms');
      expect(uncached.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', requestId: expect.any(String) });
      expect(uncached.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
      const cached = await sut.app.inject({ method: 'GET', url: cachedUrl, headers: user.headers });
      expect(cached.statusCode).toBe(200);
      expect(cached.headers['x-cache']).toBe('HIT');

      await postgres.start();
      const back = await waitFor(
        () => sut.app.inject({ method: 'POST', url: '/api/projects', headers: user.headers, payload: { name: 'after' } }),
        (r) => r.statusCode === 201,
        5_000,
      );
      expect(back.ms).toBeLessThan(5_000);
      recordFigure('database restarted: first successful write after', back.ms, 'ms');
      expect((await sut.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      stop = true;
      await load;
    }
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    expect(sut.app.get(PoolObserver).snapshot().checked_out).toBe(0);
  }, 60_000);
});

describe('pool exhaustion and statement timeout over HTTP (real PostgreSQL)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    // db-test exhausts the pool on purpose here: no reserve.
    sut = await bootApp({ DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '1', DB_POOL_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '1500', DEBUG_DB_TEST_RESERVE: '0' });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('answers 503 after the pool timeout while every connection is held, then recovers with no leak', async () => {
    const admin = await aUser(sut.app, { role: 'admin' });
    const user = await aUser(sut.app);
    await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
    const holding = sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=2&delay=1', headers: admin.headers });
    let held = true;
    void holding.then(() => (held = false));
    await waitFor(async () => sut.app.get(PoolObserver).snapshot().checked_out, (n) => n === 2, 2_000);

    const started = Date.now();
    const res = await sut.app.inject({ method: 'GET', url: '/api/projects', headers: user.headers });
    const took = Date.now() - started;
    recordFigure('pool exhausted (DB_POOL_TIMEOUT_MS=300): 503 after', took, 'ms');

    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/busy/);
    // It waited the pool timeout, and gave up while every connection was still held: not sooner,
    // and not by waiting for a connection to come back.
    expect(took).toBeGreaterThanOrEqual(290);
    expect(held).toBe(true);
    await holding;
    expect((await sut.app.inject({ method: 'GET', url: '/api/projects', headers: user.headers })).statusCode).toBe(200);
    expect(sut.app.get(PoolObserver).snapshot().checked_out).toBe(0);
  });

  it('cancels a statement over DB_STATEMENT_TIMEOUT_MS with 503 and reuses the connection', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user);
    const locker = new Client({ connectionString: sut.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [project.id]);

      const started = Date.now();
      const blocked = await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name: 'x' } });

      expect(blocked.statusCode).toBe(503);
      expect(blocked.json().message).toMatch(/statement timeout/);
      // The lock is held until the ROLLBACK below: only the statement timeout can have ended it.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_450);
      recordFigure('statement timeout (DB_STATEMENT_TIMEOUT_MS=1500): 503 after', Date.now() - started, 'ms');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const after = await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name: 'y' } });
    expect(after.statusCode).toBe(200);
    expect(sut.app.get(PoolObserver).snapshot().checked_out).toBe(0);
  });
});

describe('expired cache entries stand in while the database cannot answer (real PostgreSQL)', () => {
  let sut: TestApp;

  // Entries (answers and tokens) expire after 300 ms, then stay 60 s for the stale window.
  beforeAll(async () => {
    sut = await bootApp({
      DB_POOL_SIZE: '1',
      DB_MAX_OVERFLOW: '1',
      DB_POOL_TIMEOUT_MS: '300',
      CACHE_TTL_MS: '300',
      TOKEN_CACHE_TTL_MS: '300',
      CACHE_STALE_MS: '60000',
      DEBUG_DB_TEST_RESERVE: '0',
    });
  });

  afterAll(async () => {
    await sut.close();
  });

  /** Runs `during` while /debug/db-test holds both pooled connections for 1.2 s. */
  async function whileThePoolIsHeld<T>(during: () => Promise<T>): Promise<T> {
    const admin = await aUser(sut.app, { role: 'admin' });
    await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: admin.headers });
    const holding = sut.app.inject({ method: 'GET', url: '/debug/db-test?num_tests=2&delay=1.2', headers: admin.headers });
    await waitFor(async () => sut.app.get(PoolObserver).snapshot().checked_out, (n) => n === 2, 2_000);
    try {
      return await during();
    } finally {
      await holding;
    }
  }

  it('answers an expired read with X-Cache: STALE instead of 503, then loads fresh once the pool is free', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user);
    const url = `/api/projects/${project.id}`;
    const first = await sut.app.inject({ method: 'GET', url, headers: user.headers });
    await new Promise((r) => setTimeout(r, 400));

    const during = await whileThePoolIsHeld(() => sut.app.inject({ method: 'GET', url, headers: user.headers }));
    const after = await sut.app.inject({ method: 'GET', url, headers: user.headers });

    expect(first.headers['x-cache']).toBe('MISS');
    expect(during.statusCode).toBe(200);
    expect(during.headers['x-cache']).toBe('STALE');
    expect(during.body).toBe(first.body);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(sut.app.get(CacheService).stats().find((s) => s.cache === 'http')!.stale_served).toBeGreaterThanOrEqual(1);
  });

  it('never serves an entry a write has invalidated: that read answers 503', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user, { name: 'before' });
    const url = `/api/projects/${project.id}`;
    await sut.app.inject({ method: 'GET', url, headers: user.headers });
    const patched = await sut.app.inject({ method: 'PATCH', url, headers: user.headers, payload: { name: 'after' } });
    await new Promise((r) => setTimeout(r, 400));

    const during = await whileThePoolIsHeld(() => sut.app.inject({ method: 'GET', url, headers: user.headers }));

    expect(patched.statusCode).toBe(200);
    expect(during.statusCode).toBe(503);
    expect(during.body).not.toContain('before');
  });
});
