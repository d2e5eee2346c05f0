import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ActivityController } from '../../src/activities/activity.controller';
import { AuthController } from '../../src/auth/auth.controller';
import { TokenService } from '../../src/auth/token.service';
import { UsersController } from '../../src/auth/users.controller';
import { FileController } from '../../src/files/file.controller';
import { DebugController } from '../../src/debugging/debug.controller';
import { PerformanceController } from '../../src/monitoring/performance.controller';
import { ProjectController } from '../../src/projects/project.controller';
import { dataDigest, expectCleanError } from '../support/assertions';
import { aUser, createProject, TEST_PASSWORD, TestUser } from '../support/factories';
import { declaredRoutes } from '../support/routes';
import { bootApp, TestApp } from '../support/test-app';
import { CALLERS, Caller, Fixture, Inject, Method, mustNotWrite, Req, Route, ROUTES, ROWS } from './authorization-matrix.table';

describe('authorization matrix (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let revokedToken: string;

  beforeAll(async () => {
    sut = await bootApp();
    db = sut.app.get(DataSource);
    owner = await aUser(sut.app);
    other = await aUser(sut.app);
    admin = await aUser(sut.app, { role: 'admin' });

    // A token of the owner that went through the real login and logout.
    const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: owner.email, password: TEST_PASSWORD } });
    expect(login.statusCode).toBe(201);
    revokedToken = login.json().token;
    const logout = await inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${revokedToken}` } });
    expect(logout.statusCode).toBe(204);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (opts: Inject) => sut.app.inject(opts);

  function userOf(caller: Caller): TestUser | undefined {
    return caller === 'owner' ? owner : caller === 'another user' ? other : caller === 'admin' ? admin : undefined;
  }

  async function headersOf(caller: Caller, route: Route): Promise<Record<string, string>> {
    switch (caller) {
      case 'anonymous':
        return {};
      case "malformed 'Bearer'":
        return { authorization: 'Bearer' };
      case "malformed 'Basic x'":
        return { authorization: 'Basic x' };
      case "malformed 'Bearer a b'":
        return { authorization: 'Bearer a b' };
      case 'revoked token':
        return { authorization: `Bearer ${revokedToken}` };
      default: {
        const user = userOf(caller)!;
        if (!route.consumesToken) return user.headers;
        return { authorization: `Bearer ${await sut.app.get(TokenService).issue(user.id)}` };
      }
    }
  }

  /** A project of the owner with one file and one activity, all carrying the same marker. */
  async function aFixture(): Promise<Fixture> {
    const marker = `m${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const project = await createProject(sut.app, owner, { name: `secret project ${marker}`, description: `secret plans ${marker}` });
    const file = await inject({
      method: 'POST',
      url: `/api/projects/${project.id}/files`,
      headers: owner.headers,
      payload: { path: `secret/${marker}.ts`, content: `const secret = '${marker}';` },
    });
    expect(file.statusCode).toBe(201);
    const activity = await inject({
      method: 'POST',
      url: `/api/projects/${project.id}/activities`,
      headers: owner.headers,
      payload: { agent: `agent-${marker}`, action: `action-${marker}`, payload: { secret: marker } },
    });
    expect(activity.statusCode).toBe(201);
    return { marker, projectId: project.id, fileId: file.json().id };
  }

  describe(`every /api route x every caller (${ROUTES.length} routes x ${CALLERS.length} callers = ${ROWS.length} rows)`, () => {
    it.each(ROWS)('$route as $caller -> $expected', async ({ route: routeName, caller, expected }) => {
      const route = ROUTES.find((r) => r.name === routeName)!;
      const fixture = await aFixture();
      const ctx = { callerId: userOf(caller)?.id, ownerId: owner.id, ownerEmail: owner.email };
      const headers = await headersOf(caller, route);
      const before = await dataDigest(db);

      const res = await inject({ ...route.request(fixture, ctx), headers });

      expect({ status: res.statusCode, body: res.body.slice(0, 300) }).toEqual({ status: expected, body: expect.any(String) });
      if (expected >= 400) {
        expectCleanError(res);
      } else if (expected !== 204) {
        route.check?.(res.json(), fixture, caller, ctx.callerId);
      }
      if (caller !== 'owner') {
        // Not the name, the description, the path, the content, the activity, nor the ids.
        expect(res.body).not.toContain(fixture.marker);
        expect(res.body).not.toContain(fixture.projectId);
        expect(res.body).not.toContain(fixture.fileId);
      }
      if (mustNotWrite(route, caller, expected)) expect(await dataDigest(db)).toEqual(before);
      if (expected === 404) {
        // Another user's project answers exactly like one that does not exist: no existence oracle.
        const missing = await inject({ ...route.request({ ...fixture, projectId: randomUUID(), fileId: randomUUID() }, ctx), headers });
        const { requestId: _a, ...answer } = res.json();
        const { requestId: _b, ...missingAnswer } = missing.json();
        expect(answer).toEqual(missingAnswer);
      }
    });

    it('covers every route the /api controllers declare, each with every caller', () => {
      const fastify = sut.app.getHttpAdapter().getInstance();
      const covered = [...new Set(ROUTES.map((r) => r.name.replace(/\?.*$/, '')))].sort();

      expect(covered).toEqual(
        declaredRoutes([AuthController, UsersController, ProjectController, FileController, ActivityController, PerformanceController, DebugController]),
      );
      for (const name of covered) {
        const [method, url] = name.split(' ');
        expect({ name, served: fastify.hasRoute({ method: method as Method, url }) }).toEqual({ name, served: true });
      }
      expect(ROWS).toHaveLength(ROUTES.length * CALLERS.length);
    });
  });

  describe('leaks through the side doors', () => {
    it('batch-get with only another user’s ids answers nothing; mixed with own ids answers only the own', async () => {
      const a = await aFixture();
      const b = await aFixture();
      const mine = await createProject(sut.app, other, { name: 'other’s own' });

      const onlyTheirs = await inject({ method: 'POST', url: '/api/projects/batch-get', headers: other.headers, payload: { ids: [a.projectId, b.projectId] } });
      const mixed = await inject({
        method: 'POST',
        url: '/api/projects/batch-get',
        headers: other.headers,
        payload: { ids: [a.projectId, mine.id, b.projectId, a.projectId] },
      });
      const asAdmin = await inject({ method: 'POST', url: '/api/projects/batch-get', headers: admin.headers, payload: { ids: [a.projectId] } });

      expect(onlyTheirs.json()).toEqual({ items: [] });
      expect(mixed.json().items.map((i: { id: string }) => i.id)).toEqual([mine.id]);
      expect(asAdmin.json()).toEqual({ items: [] });
      for (const res of [onlyTheirs, mixed, asAdmin]) {
        expect(res.body).not.toContain(a.marker);
        expect(res.body).not.toContain(b.marker);
      }
    });

    it('include=files,activities of another user’s project answers 404 with none of its files or activities', async () => {
      const f = await aFixture();

      for (const include of ['files', 'activities', 'files,activities', 'activities,files']) {
        for (const user of [other, admin]) {
          const res = await inject({ method: 'GET', url: `/api/projects/${f.projectId}?include=${include}`, headers: user.headers });
          expect(res.statusCode).toBe(404);
          expect(res.body).not.toContain(f.marker);
          expectCleanError(res);
        }
      }
    });

    it('bulk status update with another user’s ids changes none of their rows, and says so', async () => {
      const targets = [await aFixture(), await aFixture(), await aFixture()];
      const mine = await createProject(sut.app, other);
      const ids = targets.map((t) => t.projectId);
      const rowsBefore = await db.query('SELECT id, status, updated_at::text FROM projects WHERE id = ANY($1::uuid[]) ORDER BY id', [ids]);

      const res = await inject({ method: 'PATCH', url: '/api/projects/status', headers: other.headers, payload: { ids: [...ids, mine.id], status: 'draft' } });
      const asAdmin = await inject({ method: 'PATCH', url: '/api/projects/status', headers: admin.headers, payload: { ids, status: 'draft' } });

      expect(res.json()).toEqual({ updated: 1 });
      expect(asAdmin.json()).toEqual({ updated: 0 });
      expect(await db.query('SELECT id, status, updated_at::text FROM projects WHERE id = ANY($1::uuid[]) ORDER BY id', [ids])).toEqual(rowsBefore);
      const [{ status }] = await db.query('SELECT status FROM projects WHERE id = $1', [mine.id]);
      expect(status).toBe('draft');
    });

    it('a path conflict inside another user’s project answers 404, not 409: the paths there stay unknowable', async () => {
      const f = await aFixture();
      const path = `secret/${f.marker}.ts`;

      const create = await inject({ method: 'POST', url: `/api/projects/${f.projectId}/files`, headers: other.headers, payload: { path, content: 'x' } });
      const rename = await inject({ method: 'PATCH', url: `/api/projects/${f.projectId}/files/${f.fileId}`, headers: other.headers, payload: { path } });

      expect([create.statusCode, rename.statusCode]).toEqual([404, 404]);
      expect(create.body).not.toContain(f.marker);
      expect(rename.body).not.toContain(f.marker);
    });

    it('a file id is only reachable through its own project, even for its owner', async () => {
      const f = await aFixture();
      const otherProjectOfOwner = await createProject(sut.app, owner);
      const theirs = await createProject(sut.app, other);

      const viaOwnersOther = await inject({ method: 'GET', url: `/api/projects/${otherProjectOfOwner.id}/files/${f.fileId}`, headers: owner.headers });
      const viaIntrudersOwn = await inject({ method: 'GET', url: `/api/projects/${theirs.id}/files/${f.fileId}`, headers: other.headers });
      const deleteViaOwn = await inject({ method: 'DELETE', url: `/api/projects/${theirs.id}/files/${f.fileId}`, headers: other.headers });

      expect([viaOwnersOther.statusCode, viaIntrudersOwn.statusCode, deleteViaOwn.statusCode]).toEqual([404, 404, 404]);
      expect(viaIntrudersOwn.body).not.toContain(f.marker);
      const [{ count }] = await db.query('SELECT count(*)::int AS count FROM files WHERE id = $1', [f.fileId]);
      expect(count).toBe(1);
    });

    it('a cursor of the owner’s file list pages nothing of it for another user', async () => {
      const f = await aFixture();
      await inject({ method: 'POST', url: `/api/projects/${f.projectId}/files`, headers: owner.headers, payload: { path: `secret/z-${f.marker}.ts`, content: 'x' } });
      const first = await inject({ method: 'GET', url: `/api/projects/${f.projectId}/files?limit=1`, headers: owner.headers });
      const cursor = first.json().nextCursor as string;
      expect(cursor).toEqual(expect.any(String));

      const res = await inject({ method: 'GET', url: `/api/projects/${f.projectId}/files?limit=1&cursor=${encodeURIComponent(cursor)}`, headers: other.headers });

      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain(f.marker);
    });

    const CACHED_URLS: [string, (f: Fixture) => string][] = [
      ['GET /api/projects/:id', (f) => `/api/projects/${f.projectId}`],
      ['GET /api/projects/:id?include=files,activities', (f) => `/api/projects/${f.projectId}?include=files,activities`],
      ['GET /api/projects/:id/files', (f) => `/api/projects/${f.projectId}/files`],
      ['GET /api/projects/:id/files/:fileId', (f) => `/api/projects/${f.projectId}/files/${f.fileId}`],
      ['GET /api/projects/:id/activities', (f) => `/api/projects/${f.projectId}/activities`],
    ];

    it.each(CACHED_URLS)('response cache: %s cached for the owner is never served to anybody else', async (_name, urlOf) => {
      const f = await aFixture();
      const url = urlOf(f);
      const first = await inject({ method: 'GET', url, headers: owner.headers });
      const cached = await inject({ method: 'GET', url, headers: owner.headers });
      expect([first.statusCode, cached.statusCode, cached.headers['x-cache']]).toEqual([200, 200, 'HIT']);
      const etag = String(cached.headers.etag);

      for (const user of [other, admin]) {
        const plain = await inject({ method: 'GET', url, headers: user.headers });
        // The owner's ETag must not turn into a 304, which would confirm the owner's body.
        const conditional = await inject({ method: 'GET', url, headers: { ...user.headers, 'if-none-match': etag } });
        for (const res of [plain, conditional]) {
          expect(res.statusCode).toBe(404);
          expect(res.headers['x-cache']).toBeUndefined();
          expect(res.headers.etag).toBeUndefined();
          expect(res.body).not.toContain(f.marker);
          expectCleanError(res);
        }
      }
      const revoked = await inject({ method: 'GET', url, headers: { authorization: `Bearer ${revokedToken}` } });
      expect(revoked.statusCode).toBe(401);
      expect(revoked.body).not.toContain(f.marker);

      // Nor did the others' 404 replace the owner's entry.
      const again = await inject({ method: 'GET', url, headers: owner.headers });
      expect([again.statusCode, again.headers['x-cache'], again.body]).toEqual([200, 'HIT', cached.body]);
    });

    it('response cache: the same list URL answers each user their own list', async () => {
      const f = await aFixture();
      const ownerList = await inject({ method: 'GET', url: '/api/projects?limit=100&status=active', headers: owner.headers });
      const otherList = await inject({ method: 'GET', url: '/api/projects?limit=100&status=active', headers: other.headers });
      const adminList = await inject({ method: 'GET', url: '/api/projects?limit=100&status=active', headers: admin.headers });

      expect(ownerList.body).toContain(f.marker);
      for (const res of [otherList, adminList]) {
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-cache']).toBe('MISS');
        expect(res.body).not.toContain(f.marker);
      }
    });

    it('error answers about another user’s data carry none of it: no data, no SQL, no stack', async () => {
      const f = await aFixture();
      const attempts: Req[] = [
        { method: 'PATCH', url: `/api/projects/${f.projectId}`, payload: { name: `secret project ${f.marker}` } },
        { method: 'PATCH', url: `/api/projects/${f.projectId}/files/${f.fileId}`, payload: { content: 'overwritten' } },
        { method: 'GET', url: `/api/projects/${f.projectId}/activities?agent=agent-${f.marker}` },
        { method: 'GET', url: `/api/projects/${f.projectId}/files?prefix=secret/` },
        { method: 'POST', url: `/api/projects/${f.projectId}/activities/batch`, payload: { items: [{ agent: 'a', action: 'b' }, { agent: 'c', action: 'd' }] } },
      ];

      for (const attempt of attempts) {
        const res = await inject({ ...attempt, headers: other.headers });
        expect({ url: attempt.url, status: res.statusCode }).toEqual({ url: attempt.url, status: 404 });
        expectCleanError(res);
        expect(res.json().message).toMatch(/^(Project|File) not found$/);
        expect(res.body).not.toContain(f.marker);
        expect(res.body).not.toContain(owner.email);
        expect(res.body).not.toContain(owner.id);
      }
    });
  });
});
