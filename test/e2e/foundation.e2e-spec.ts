import { DataSource, QueryRunner } from 'typeorm';
import { PoolTimeoutError, classifyDbError } from '../../src/database/database.errors';
import { PoolObserver } from '../../src/database/pool-observer';
import { ShutdownState } from '../../src/http/shutdown-state';
import { aUser } from '../support/factories';
import { cutDatabase } from '../support/test-database';
import { bootApp, TestApp } from '../support/test-app';

describe('foundation (real PostgreSQL)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await bootApp({ DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '2', DB_POOL_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '500' });
  });

  afterAll(async () => {
    await sut.close();
  });

  describe('schema', () => {
    it('has every table from the migrations', async () => {
      const rows: { table_name: string }[] = await sut.app
        .get(DataSource)
        .query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);

      expect(rows.map((r) => r.table_name)).toEqual(['agent_activities', 'api_tokens', 'files', 'migrations', 'projects', 'users']);
    });

    it('has the indexes the API queries need', async () => {
      const rows: { indexname: string; indexdef: string }[] = await sut.app
        .get(DataSource)
        .query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
      const defs = Object.fromEntries(rows.map((r) => [r.indexname, r.indexdef]));

      expect(defs.users_email_lower_key).toMatch(/UNIQUE INDEX .* \(lower\(\(email\)::text\)\)/);
      expect(defs.projects_user_id_idx).toContain('(user_id)');
      expect(defs.projects_user_id_created_at_idx).toContain('(user_id, created_at DESC, id DESC)');
      expect(defs.projects_status_idx).toContain('(status)');
      expect(defs.projects_user_id_status_idx).toContain('(user_id, status,');
      expect(defs.files_project_id_idx).toContain('(project_id)');
      expect(defs.files_project_id_path_key).toMatch(/UNIQUE INDEX .*\(project_id, path COLLATE "C"\)/);
      expect(defs.agent_activities_project_id_idx).toContain('(project_id)');
      expect(defs.agent_activities_project_id_created_at_id_idx).toContain('(project_id, created_at, id)');
      expect(defs.api_tokens_token_hash_key).toContain('UNIQUE');
    });

    it('rejects a second user with the same email in another case', async () => {
      const db = sut.app.get(DataSource);
      await db.query(`INSERT INTO users (email, password_hash) VALUES ('Case@Example.com', 'x')`);

      await expect(db.query(`INSERT INTO users (email, password_hash) VALUES ('case@example.COM', 'x')`)).rejects.toMatchObject({
        driverError: expect.objectContaining({ code: '23505' }),
      });
    });
  });

  describe('health', () => {
    it('live answers 200', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/health/live' });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok' });
    });

    it('ready answers 200 with the database up, and the pool saturation in its details for admins only', async () => {
      const admin = await aUser(sut.app, { role: 'admin' });
      const user = await aUser(sut.app);

      const forAdmin = await sut.app.inject({ method: 'GET', url: '/health/ready', headers: admin.headers });
      const forUser = await sut.app.inject({ method: 'GET', url: '/health/ready', headers: user.headers });
      const anonymous = await sut.app.inject({ method: 'GET', url: '/health/ready' });
      const badToken = await sut.app.inject({ method: 'GET', url: '/health/ready', headers: { authorization: 'Bearer pbt_nope' } });

      expect(forAdmin.statusCode).toBe(200);
      expect(forAdmin.json().details.database).toMatchObject({ status: 'up', pool: { checked_out: 0, max: 4, waiting: 0 } });
      for (const res of [forUser, anonymous, badToken]) {
        expect(res.statusCode).toBe(200);
        expect(res.json().details.database).toEqual({ status: 'up' });
      }
    });

    it('ready answers 503 while the database is unreachable and 200 again once it is back', async () => {
      await cutDatabase(sut.url, true);
      try {
        const down = await sut.app.inject({ method: 'GET', url: '/health/ready' });

        expect(down.statusCode).toBe(503);
        expect(down.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', requestId: expect.any(String) });
        // Anonymous callers learn that it is down, not how the database is reached.
        expect(down.json().details.database).toEqual({ status: 'down' });
        expect(down.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminat|connect/i);
      } finally {
        await cutDatabase(sut.url, false);
      }
      const up = await sut.app.inject({ method: 'GET', url: '/health/ready' });
      expect(up.statusCode).toBe(200);
    });
  });

  describe('errors and request ids', () => {
    it('answers unknown routes with the JSON error shape and echoes the request id', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/no/such/route', headers: { 'x-request-id': 'req-42' } });

      expect(res.statusCode).toBe(404);
      expect(res.headers['x-request-id']).toBe('req-42');
      expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /no/such/route', requestId: 'req-42' });
    });

    it.each([
      ['PUT', '/api/projects/0b0c6f8e-1c1e-4b4e-9b1e-1c1e4b4e9b1e', 'GET, HEAD, PATCH, DELETE'],
      ['DELETE', '/api/projects?limit=5', 'GET, HEAD, POST'],
      ['POST', '/health/live', 'GET, HEAD'],
      // The static POST route and the parametric ones all match, as they do when routing.
      ['PUT', '/api/projects/batch-get', 'GET, HEAD, POST, PATCH, DELETE'],
      ['GET', '/api/projects/0b0c6f8e-1c1e-4b4e-9b1e-1c1e4b4e9b1e/activities/batch', 'POST'],
      // Without CORS_ORIGINS nothing answers OPTIONS, so it is refused and not listed.
      ['OPTIONS', '/api/projects', 'GET, HEAD, POST'],
    ])('answers %s %s with 405 and Allow: %s, before authentication', async (method, url, allow) => {
      const res = await sut.app.inject({ method: method as 'GET', url, headers: { 'x-request-id': 'req-405' } });

      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.json()).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: `Cannot ${method} ${url}: this path allows ${allow}`, requestId: 'req-405' });
    });

    it('answers 405 without reading or parsing the body', async () => {
      const res = await sut.app.inject({ method: 'PUT', url: '/api/projects', headers: { 'content-type': 'application/json' }, payload: '{not json' });

      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
    });

    it('keeps 404 without Allow for a path no method has', async () => {
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        const res = await sut.app.inject({ method, url: '/api/projects/0b0c6f8e-1c1e-4b4e-9b1e-1c1e4b4e9b1e/nothing' });

        expect([method, res.statusCode, res.headers.allow]).toEqual([method, 404, undefined]);
      }
    });

    it('makes a request id when none (or a malformed one) is given', async () => {
      const res = await sut.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id\twith spaces' } });

      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('pool observer against the real pool', () => {
    const held: QueryRunner[] = [];

    async function hold(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const runner = sut.app.get(DataSource).createQueryRunner();
        await runner.connect();
        held.push(runner);
      }
    }

    afterEach(async () => {
      await Promise.all(held.splice(0).map((r) => r.release()));
    });

    it('counts held connections as checked out, with SQLAlchemy overflow', async () => {
      const observer = sut.app.get(PoolObserver);
      await hold(2);

      expect(observer.snapshot()).toMatchObject({ pool_size: 2, max_overflow: 2, checked_out: 2, overflow: 0 });

      await hold(1);
      expect(observer.snapshot()).toMatchObject({ checked_out: 3, total: 3, overflow: 1 });
    });

    it('times out a caller after DB_POOL_TIMEOUT_MS when every connection is held, then recovers', async () => {
      const observer = sut.app.get(PoolObserver);
      const before = observer.snapshot().timeouts;
      await hold(4);

      const started = Date.now();
      const error = await sut.app.get(DataSource).query('SELECT 1').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect(classifyDbError(error)?.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(observer.snapshot()).toMatchObject({ checked_out: 4, timeouts: before + 1 });

      await Promise.all(held.splice(0).map((r) => r.release()));
      await expect(sut.app.get(DataSource).query('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
      expect(observer.snapshot().checked_out).toBe(0);
    });

    it('cancels statements over DB_STATEMENT_TIMEOUT_MS and keeps the connection usable', async () => {
      const db = sut.app.get(DataSource);
      const error = await db.query('SELECT pg_sleep(2)').catch((e: unknown) => e);

      expect(classifyDbError(error)).toMatchObject({ status: 503 });
      await expect(db.query('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
    });

    it('returns checked_out to zero after queries finish (no leaks)', async () => {
      const db = sut.app.get(DataSource);
      await Promise.all(Array.from({ length: 10 }, () => db.query('SELECT pg_sleep(0.01)')));

      expect(sut.app.get(PoolObserver).snapshot().checked_out).toBe(0);
    });
  });

  describe('shutdown state', () => {
    it('turns readiness 503 as soon as shutdown begins', async () => {
      const other = await bootApp();
      try {
        other.app.get(ShutdownState).begin();
        const res = await other.app.inject({ method: 'GET', url: '/health/ready' });

        expect(res.statusCode).toBe(503);
        expect(res.json().details.lifecycle).toMatchObject({ status: 'down', state: 'shutting down' });
      } finally {
        await other.close();
      }
    });
  });
});

describe('pre-ping (real PostgreSQL)', () => {
  it('replaces a pooled connection the server has dropped instead of failing the caller', async () => {
    const sut = await bootApp({ DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '0', DB_PRE_PING_IDLE_MS: '0' });
    try {
      const db = sut.app.get(DataSource);
      const [{ pid }] = await db.query('SELECT pg_backend_pid() AS pid');
      await db.query('SELECT 1'); // the idle connection is the one whose pid we know
      const killer = new DataSource({ type: 'postgres', url: sut.url });
      await killer.initialize();
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      await killer.destroy();

      const [{ pid: newPid }] = await db.query('SELECT pg_backend_pid() AS pid');

      // Either the pre-ping found it dead, or the pool already dropped it when the server's
      // termination notice arrived: the caller never sees the dead connection (unit-tested in
      // pool-observer.spec.ts for the silent case).
      expect(newPid).not.toBe(pid);
      expect(sut.app.get(PoolObserver).acquireStats().prePingFailures).toBeLessThanOrEqual(1);
    } finally {
      await sut.close();
    }
  });
});
