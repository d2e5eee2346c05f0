import { randomUUID } from 'node:crypto';
import { TEST_PASSWORD } from '../support/factories';
import type { TestApp } from '../support/test-app';

/**
 * Every /api route x every kind of caller, one row each. The API is owner-scoped: an admin is not
 * an owner, so an admin reading someone else's project gets the same 404 as anybody else; the
 * admin role only opens /api/users, /api/performance and /debug.
 */

export type Inject = Parameters<TestApp['app']['inject']>[0];
export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface Req {
  method: Method;
  url: string;
  payload?: object;
}

export const CALLERS = ['anonymous', "malformed 'Bearer'", "malformed 'Basic x'", "malformed 'Bearer a b'", 'revoked token', 'owner', 'another user', 'admin'] as const;
export type Caller = (typeof CALLERS)[number];
export const UNAUTHENTICATED: readonly Caller[] = CALLERS.slice(0, 5);

/** What the owner has: every string of it carries `marker`, so a leak of any field shows as the marker. */
export interface Fixture {
  readonly marker: string;
  readonly projectId: string;
  readonly fileId: string;
}

/**
 * public: no token needed. self: any signed-in user, acting on their own data. admin: admin role.
 * owned: the owner of the fixture's project only; anybody else gets 404 as if it did not exist.
 */
type Access = 'public' | 'self' | 'admin' | 'owned';
/** Whether a successful call writes: never, always, or only when the caller owns the fixture. */
type Writes = 'never' | 'always' | 'owner';

export interface Route {
  readonly name: string;
  readonly access: Access;
  readonly ok: number;
  readonly writes: Writes;
  /** Logout revokes the token it is called with: such rows get a token of their own. */
  readonly consumesToken?: boolean;
  request(f: Fixture, ctx: { callerId?: string; ownerId: string; ownerEmail: string }): Req;
  /** What the successful answer must hold, per caller. */
  check?(body: any, f: Fixture, caller: Caller, callerId: string | undefined): void;
}

const p = (f: Fixture) => `/api/projects/${f.projectId}`;

export const ROUTES: Route[] = [
  {
    name: 'POST /api/auth/login',
    access: 'public',
    ok: 201,
    writes: 'always',
    request: (_f, { ownerEmail }) => ({ method: 'POST', url: '/api/auth/login', payload: { email: ownerEmail, password: TEST_PASSWORD } }),
    check: (body) => expect(body.token).toMatch(/^pbt_/),
  },
  {
    name: 'POST /api/auth/logout',
    access: 'self',
    ok: 204,
    writes: 'always',
    consumesToken: true,
    request: () => ({ method: 'POST', url: '/api/auth/logout' }),
  },
  {
    name: 'GET /api/auth/me',
    access: 'self',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/api/auth/me' }),
    check: (body, _f, _c, callerId) => expect(body.id).toBe(callerId),
  },
  {
    name: 'POST /api/users',
    access: 'admin',
    ok: 201,
    writes: 'always',
    request: () => ({ method: 'POST', url: '/api/users', payload: { email: `new-${randomUUID()}@example.com`, password: 'long enough' } }),
  },
  {
    name: 'GET /api/users',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/api/users?limit=5' }),
  },
  {
    name: 'GET /api/performance/metrics',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/api/performance/metrics' }),
  },
  {
    name: 'GET /api/performance/timing/:operation',
    access: 'admin',
    // Nothing was timed under this name: the admin passes the guard and gets the route's 404.
    ok: 404,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/api/performance/timing/never-timed' }),
  },
  {
    name: 'POST /api/performance/reset',
    access: 'admin',
    ok: 204,
    writes: 'never',
    request: () => ({ method: 'POST', url: '/api/performance/reset' }),
  },
  {
    name: 'GET /debug/pool-status',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/debug/pool-status' }),
  },
  {
    name: 'GET /debug/db-test',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/debug/db-test?num_tests=1&delay=0' }),
  },
  {
    name: 'GET /debug/cache',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/debug/cache' }),
  },
  {
    name: 'POST /debug/cache/flush',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'POST', url: '/debug/cache/flush' }),
  },
  {
    name: 'GET /debug/config',
    access: 'admin',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/debug/config' }),
  },
  {
    name: 'POST /api/users/:id/tokens',
    access: 'admin',
    ok: 201,
    writes: 'always',
    // The owner's own id: even for yourself, issuing tokens is admin-only.
    request: (_f, { ownerId }) => ({ method: 'POST', url: `/api/users/${ownerId}/tokens` }),
  },
  {
    name: 'POST /api/projects',
    access: 'self',
    ok: 201,
    writes: 'always',
    request: () => ({ method: 'POST', url: '/api/projects', payload: { name: 'a project of the caller' } }),
  },
  {
    name: 'GET /api/projects',
    access: 'self',
    ok: 200,
    writes: 'never',
    request: () => ({ method: 'GET', url: '/api/projects?limit=100' }),
    check: (body, f, caller) => {
      const ids = body.items.map((i: { id: string }) => i.id);
      if (caller === 'owner') expect(ids).toContain(f.projectId);
    },
  },
  {
    name: 'POST /api/projects/batch-get',
    access: 'self',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: [f.projectId] } }),
    check: (body, f, caller) => expect(body.items.map((i: { id: string }) => i.id)).toEqual(caller === 'owner' ? [f.projectId] : []),
  },
  {
    name: 'PATCH /api/projects/status',
    access: 'self',
    ok: 200,
    writes: 'owner',
    request: (f) => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: [f.projectId], status: 'archived' } }),
    check: (body, _f, caller) => expect(body).toEqual({ updated: caller === 'owner' ? 1 : 0 }),
  },
  {
    name: 'GET /api/projects/:id',
    access: 'owned',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'GET', url: p(f) }),
    check: (body, f) => expect(body.name).toContain(f.marker),
  },
  {
    name: 'GET /api/projects/:id?include=files,activities',
    access: 'owned',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'GET', url: `${p(f)}?include=files,activities` }),
    check: (body, f) => {
      expect(body.files[0].path).toContain(f.marker);
      expect(body.activities[0].action).toContain(f.marker);
    },
  },
  {
    name: 'PATCH /api/projects/:id',
    access: 'owned',
    ok: 200,
    writes: 'owner',
    request: (f) => ({ method: 'PATCH', url: p(f), payload: { status: 'completed' } }),
  },
  {
    name: 'DELETE /api/projects/:id',
    access: 'owned',
    ok: 204,
    writes: 'owner',
    request: (f) => ({ method: 'DELETE', url: p(f) }),
  },
  {
    name: 'POST /api/projects/:id/files',
    access: 'owned',
    ok: 201,
    writes: 'owner',
    request: (f) => ({ method: 'POST', url: `${p(f)}/files`, payload: { path: `other/${randomUUID()}.txt`, content: 'x' } }),
  },
  {
    name: 'GET /api/projects/:id/files',
    access: 'owned',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'GET', url: `${p(f)}/files` }),
    check: (body, f) => expect(body.items[0].path).toContain(f.marker),
  },
  {
    name: 'GET /api/projects/:id/files/:fileId',
    access: 'owned',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'GET', url: `${p(f)}/files/${f.fileId}` }),
    check: (body, f) => expect(body.content).toContain(f.marker),
  },
  {
    name: 'PATCH /api/projects/:id/files/:fileId',
    access: 'owned',
    ok: 200,
    writes: 'owner',
    request: (f) => ({ method: 'PATCH', url: `${p(f)}/files/${f.fileId}`, payload: { language: 'text' } }),
  },
  {
    name: 'DELETE /api/projects/:id/files/:fileId',
    access: 'owned',
    ok: 204,
    writes: 'owner',
    request: (f) => ({ method: 'DELETE', url: `${p(f)}/files/${f.fileId}` }),
  },
  {
    name: 'POST /api/projects/:id/activities',
    access: 'owned',
    ok: 201,
    writes: 'owner',
    request: (f) => ({ method: 'POST', url: `${p(f)}/activities`, payload: { agent: 'intruder', action: 'wrote' } }),
  },
  {
    name: 'POST /api/projects/:id/activities/batch',
    access: 'owned',
    ok: 201,
    writes: 'owner',
    request: (f) => ({ method: 'POST', url: `${p(f)}/activities/batch`, payload: { items: [{ agent: 'intruder', action: 'wrote' }] } }),
  },
  {
    name: 'GET /api/projects/:id/activities',
    access: 'owned',
    ok: 200,
    writes: 'never',
    request: (f) => ({ method: 'GET', url: `${p(f)}/activities` }),
    check: (body, f) => expect(body.items[0].action).toContain(f.marker),
  },
];

function expectedStatus(route: Route, caller: Caller): number {
  if (route.access === 'public') return route.ok;
  if (UNAUTHENTICATED.includes(caller)) return 401;
  if (route.access === 'admin') return caller === 'admin' ? route.ok : 403;
  if (route.access === 'owned') return caller === 'owner' ? route.ok : 404;
  return route.ok;
}

export function mustNotWrite(route: Route, caller: Caller, status: number): boolean {
  return status >= 400 || route.writes === 'never' || (route.writes === 'owner' && caller !== 'owner');
}

export const ROWS = ROUTES.flatMap((route) => CALLERS.map((caller) => ({ route: route.name, caller, expected: expectedStatus(route, caller) })));
