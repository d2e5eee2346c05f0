import { randomUUID } from 'node:crypto';
import type { TestUser } from '../support/factories';
import type { TestApp } from '../support/test-app';

export type Inject = Parameters<TestApp['app']['inject']>[0];
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

// Small enough that "content over FILE_MAX_BYTES" is cheap; the body limit is the least the
// configuration allows for it (6 x FILE_MAX_BYTES + 64 KiB), so "body over the limit" is cheap too.
export const FILE_MAX_BYTES = 1024;
export const BODY_LIMIT_BYTES = 6 * FILE_MAX_BYTES + 64 * 1024;

/** Whatever each row needs that only exists once the app is up. */
export interface Ctx {
  owner: TestUser;
  admin: TestUser;
  projectId: string;
  fileId: string;
  cursors: Record<'projects' | 'users' | 'files' | 'activities', string>;
}

export interface Req {
  method: Method;
  url: string;
  /** An object is sent as JSON; a string is sent as it is, with `contentType`. */
  payload?: object | string;
  contentType?: string;
  /** Default: the owner. Login is public and gets no token. */
  as?: 'owner' | 'admin' | 'nobody';
}

type Row = [label: string, build: (c: Ctx) => Req, status: number, message?: RegExp];

const uuid = () => randomUUID();
const ids = (n: number) => Array.from({ length: n }, uuid);
const project = (c: Ctx) => `/api/projects/${c.projectId}`;
const files = (c: Ctx) => `${project(c)}/files`;
const file = (c: Ctx) => `${files(c)}/${c.fileId}`;
const activities = (c: Ctx) => `${project(c)}/activities`;
const batch = (c: Ctx) => `${activities(c)}/batch`;
export const q = encodeURIComponent;

const LOGIN = { email: 'someone@example.com', password: 'whatever it is' };
const NEW_USER = { email: 'new.user@example.com', password: 'long enough' };
export const ACTIVITY = { agent: 'planner', action: 'planned' };
// A lone surrogate: valid JSON (\ud800), but no Unicode scalar value, so not storable as UTF-8.
const LONE = 'a\ud800b';

/** Edits a signed cursor the ways a client could: one character of its body or of its signature, a new body, half of it. */
function editedBody(cursor: string): string {
  const i = Math.floor(cursor.indexOf('.') / 2);
  return cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1);
}
// The first character: all six of its bits are signature (the last one's low four bits are not).
function editedSignature(cursor: string): string {
  const i = cursor.indexOf('.') + 1;
  return cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1);
}
function forged(cursor: string): string {
  const sig = cursor.slice(cursor.indexOf('.') + 1);
  const body = Buffer.from(JSON.stringify(['1970-01-01T00:00:00.000000Z', randomUUID()])).toString('base64url');
  return `${body}.${sig}`;
}
const truncated = (cursor: string) => cursor.slice(0, Math.floor(cursor.length / 2));

const LIST_ROUTES: [name: keyof Ctx['cursors'], url: (c: Ctx) => string, as: 'owner' | 'admin', foreign: keyof Ctx['cursors']][] = [
  ['projects', () => '/api/projects', 'owner', 'files'],
  ['users', () => '/api/users', 'admin', 'projects'],
  ['files', files, 'owner', 'activities'],
  ['activities', activities, 'owner', 'files'],
];

const LIMITS: [string, string][] = [
  ['0', '0'],
  ['-1', '-1'],
  ['101', '101'],
  ['1e9', '1e9'],
  ["'abc'", 'abc'],
  ['1.5', '1.5'],
];

export const ROWS: Row[] = [
  // Unknown fields, top level and nested.
  ['login: unknown field', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: { ...LOGIN, admin: true } }), 400, /^admin: is not allowed$/],
  ['create user: unknown field', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { ...NEW_USER, isAdmin: true } }), 400, /^isAdmin: is not allowed$/],
  ['create project: unknown field userId', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', userId: uuid() } }), 400, /^userId: is not allowed$/],
  ['update project: unknown field id', (c) => ({ method: 'PATCH', url: project(c), payload: { name: 'x', id: uuid() } }), 400, /^id: is not allowed$/],
  ['batch-get: unknown field', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: ids(1), all: true } }), 400, /^all: is not allowed$/],
  ['bulk status: unknown field', () => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: ids(1), status: 'active', where: '1=1' } }), 400, /^where: is not allowed$/],
  ['create file: unknown field', (c) => ({ method: 'POST', url: files(c), payload: { path: 'a.txt', content: 'x', sizeBytes: 0 } }), 400, /^sizeBytes: is not allowed$/],
  ['update file: unknown field', (c) => ({ method: 'PATCH', url: file(c), payload: { content: 'x', projectId: uuid() } }), 400, /^projectId: is not allowed$/],
  ['create activity: unknown field', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, createdAt: '2000-01-01T00:00:00Z' } }), 400, /^createdAt: is not allowed$/],
  ['activities batch: unknown top-level field', (c) => ({ method: 'POST', url: batch(c), payload: { items: [ACTIVITY], atomic: false } }), 400, /^atomic: is not allowed$/],
  ['activities batch: unknown field in an item', (c) => ({ method: 'POST', url: batch(c), payload: { items: [ACTIVITY, { ...ACTIVITY, id: '1' }] } }), 400, /^items\.1\.id: is not allowed$/],
  ['list projects: unknown query parameter', () => ({ method: 'GET', url: '/api/projects?owner=x' }), 400, /^owner: is not allowed$/],
  ['get project: unknown query parameter', (c) => ({ method: 'GET', url: `${project(c)}?fields=name` }), 400, /^fields: is not allowed$/],
  ['list files: unknown query parameter', (c) => ({ method: 'GET', url: `${files(c)}?sort=path` }), 400, /^sort: is not allowed$/],
  ['list activities: unknown query parameter', (c) => ({ method: 'GET', url: `${activities(c)}?projectId=${c.projectId}` }), 400, /^projectId: is not allowed$/],
  ['list users: unknown query parameter', () => ({ method: 'GET', url: '/api/users?role=admin', as: 'admin' }), 400, /^role: is not allowed$/],

  // Wrong types.
  ['create project: number for name', () => ({ method: 'POST', url: '/api/projects', payload: { name: 42 } }), 400, /^name: must be a string of 1 to 200 characters$/],
  ['create project: array for description', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', description: ['a'] } }), 400, /^description: must be a string of at most 10000 characters$/],
  ['create project: number for status', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', status: 1 } }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['update project: boolean for name', (c) => ({ method: 'PATCH', url: project(c), payload: { name: true } }), 400, /^name: must be a string of 1 to 200 characters$/],
  ['batch-get: string for ids', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: 'abc' } }), 400, /^ids: must be an array of 1 to 100 items$/],
  ['batch-get: numbers for ids', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: [uuid(), 123] } }), 400, /^ids\.1: must be a UUID$/],
  ['bulk status: one string for ids', () => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: uuid(), status: 'active' } }), 400, /^ids: must be an array of 1 to 1000 items$/],
  ['create file: object for path', (c) => ({ method: 'POST', url: files(c), payload: { path: { a: 1 }, content: 'x' } }), 400, /^path: must be a string$/],
  ['create file: number for content', (c) => ({ method: 'POST', url: files(c), payload: { path: 'a.txt', content: 7 } }), 400, /^content: must be a string$/],
  ['update file: array for path', (c) => ({ method: 'PATCH', url: file(c), payload: { path: ['a'] } }), 400, /^path: must be a string$/],
  ['create activity: number for agent', (c) => ({ method: 'POST', url: activities(c), payload: { agent: 5, action: 'x' } }), 400, /^agent: must be a string of 1 to 100 characters$/],
  ['activities batch: object for items', (c) => ({ method: 'POST', url: batch(c), payload: { items: {} } }), 400, /^items: must be an array of 1 to 1000 items$/],
  ['activities batch: no agent in an item', (c) => ({ method: 'POST', url: batch(c), payload: { items: [ACTIVITY, { action: 'x' }] } }), 400, /^items\.1\.agent: is required$/],
  ['create project: two fields wrong, one message each', () => ({ method: 'POST', url: '/api/projects', payload: { description: 7, status: 'gone' } }), 400, /^name: is required; description: must be a string of at most 10000 characters; status: must be one of active, archived, completed, draft$/],
  ['activities batch: null item', (c) => ({ method: 'POST', url: batch(c), payload: { items: [null] } }), 400, /^items\.0: must be an object$/],
  ['login: boolean for email', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: { email: true, password: 'x' } }), 400, /^email: must be an email address of at most 254 characters$/],
  ['create user: number for password', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { email: 'n@example.com', password: 12345678 } }), 400, /^password: must be a string of 8 to 1024 characters$/],

  // Bad UUIDs in every path parameter.
  ['get project: id not a UUID', () => ({ method: 'GET', url: '/api/projects/not-a-uuid' }), 400, /^id: must be a UUID$/],
  ['update project: id a number', () => ({ method: 'PATCH', url: '/api/projects/123', payload: { name: 'x' } }), 400, /^id: must be a UUID$/],
  ['delete project: id one character too long', (c) => ({ method: 'DELETE', url: `/api/projects/${c.projectId}0` }), 400, /^id: must be a UUID$/],
  ['create file: project id not a UUID', () => ({ method: 'POST', url: '/api/projects/zzz/files', payload: { path: 'a.txt', content: 'x' } }), 400, /^id: must be a UUID$/],
  ['list files: project id not a UUID', () => ({ method: 'GET', url: '/api/projects/zzz/files' }), 400, /^id: must be a UUID$/],
  ['get file: project id not a UUID', (c) => ({ method: 'GET', url: `/api/projects/zzz/files/${c.fileId}` }), 400, /^id: must be a UUID$/],
  ['get file: file id not a UUID', (c) => ({ method: 'GET', url: `${files(c)}/not-a-uuid` }), 400, /^fileId: must be a UUID$/],
  ['update file: file id a number', (c) => ({ method: 'PATCH', url: `${files(c)}/1`, payload: { content: 'x' } }), 400, /^fileId: must be a UUID$/],
  ['delete file: file id an injection', (c) => ({ method: 'DELETE', url: `${files(c)}/${q("' OR 1=1 --")}` }), 400, /^fileId: must be a UUID$/],
  ['create activity: project id not a UUID', () => ({ method: 'POST', url: '/api/projects/zzz/activities', payload: ACTIVITY }), 400, /^id: must be a UUID$/],
  ['activities batch: project id not a UUID', () => ({ method: 'POST', url: '/api/projects/zzz/activities/batch', payload: { items: [ACTIVITY] } }), 400, /^id: must be a UUID$/],
  ['list activities: project id not a UUID', () => ({ method: 'GET', url: '/api/projects/zzz/activities' }), 400, /^id: must be a UUID$/],
  ['issue token: user id not a UUID', () => ({ method: 'POST', url: '/api/users/me/tokens', as: 'admin' }), 400, /^id: must be a UUID$/],

  // Bad enum values.
  ['create project: unknown status', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', status: 'deleted' } }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['update project: status in upper case', (c) => ({ method: 'PATCH', url: project(c), payload: { status: 'ARCHIVED' } }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['bulk status: unknown status', () => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: ids(1), status: 'gone' } }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['list projects: unknown status filter', () => ({ method: 'GET', url: '/api/projects?status=all' }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['create user: unknown role', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { ...NEW_USER, role: 'root' } }), 400, /^role: must be one of user, admin$/],
  ['list activities: unknown order', (c) => ({ method: 'GET', url: `${activities(c)}?order=random` }), 400, /^order: must be one of asc, desc$/],
  ['list activities: order in upper case', (c) => ({ method: 'GET', url: `${activities(c)}?order=ASC` }), 400, /^order: must be one of asc, desc$/],
  ['get project: unknown include', (c) => ({ method: 'GET', url: `${project(c)}?include=files,secrets` }), 400, /^include\.1: must be one of files, activities$/],
  ['get project: too many includes', (c) => ({ method: 'GET', url: `${project(c)}?include=files,files,activities` }), 400, /^include: must contain at most 2 items$/],
  ['get project: empty include', (c) => ({ method: 'GET', url: `${project(c)}?include=` }), 400, /^include\.0: must be one of files, activities$/],

  // Out-of-range and non-integer limits, on every list route.
  ...LIST_ROUTES.flatMap(([name, url, as]) =>
    LIMITS.map(([label, limit]): Row => [`list ${name}: limit=${label}`, (c) => ({ method: 'GET', url: `${url(c)}?limit=${limit}`, as }), 400, /^limit: must be an integer from 1 to 100$/]),
  ),

  // Cursors edited, forged, cut short, from another list, or too long, on every list route.
  ...LIST_ROUTES.flatMap(([name, url, as, foreign]): Row[] => {
    const invalid = /^cursor: is invalid or was tampered with/;
    const at = (c: Ctx, cursor: string): Req => ({ method: 'GET', url: `${url(c)}?cursor=${q(cursor)}`, as });
    return [
      [`list ${name}: cursor with its body edited`, (c) => at(c, editedBody(c.cursors[name])), 400, invalid],
      [`list ${name}: cursor with its signature edited`, (c) => at(c, editedSignature(c.cursors[name])), 400, invalid],
      [`list ${name}: forged cursor`, (c) => at(c, forged(c.cursors[name])), 400, invalid],
      [`list ${name}: truncated cursor`, (c) => at(c, truncated(c.cursors[name])), 400, invalid],
      [`list ${name}: cursor of the ${foreign} list`, (c) => at(c, c.cursors[foreign]), 400, invalid],
      [`list ${name}: 513-character cursor`, (c) => at(c, 'a'.repeat(513)), 400, /^cursor: must be a string of at most 512 characters$/],
    ];
  }),

  // Empty bodies where a body is required.
  ['login: no body', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody' }), 400, /^email: is required; password: is required$/],
  ['create user: no body', () => ({ method: 'POST', url: '/api/users', as: 'admin' }), 400, /^email: is required; password: is required$/],
  ['create project: no body', () => ({ method: 'POST', url: '/api/projects' }), 400, /^name: is required$/],
  ['create project: a JSON array for the body', () => ({ method: 'POST', url: '/api/projects', payload: '[{"name":"x"}]', contentType: 'application/json' }), 400, /^body: must be a JSON object$/],
  ['create project: a JSON string for the body', () => ({ method: 'POST', url: '/api/projects', payload: '"x"', contentType: 'application/json' }), 400, /^body: must be a JSON object$/],
  ['create project: empty JSON body', () => ({ method: 'POST', url: '/api/projects', payload: '', contentType: 'application/json' }), 400, /empty/],
  ['batch-get: no body', () => ({ method: 'POST', url: '/api/projects/batch-get' }), 400, /^ids: is required$/],
  ['bulk status: no body', () => ({ method: 'PATCH', url: '/api/projects/status' }), 400, /^ids: is required; status: is required$/],
  ['update project: {}', (c) => ({ method: 'PATCH', url: project(c), payload: {} }), 400, /give at least one of name, description, status/],
  ['create file: no body', (c) => ({ method: 'POST', url: files(c) }), 400, /^path: is required; content: is required$/],
  ['update file: {}', (c) => ({ method: 'PATCH', url: file(c), payload: {} }), 400, /give at least one of path, content, language/],
  ['create activity: no body', (c) => ({ method: 'POST', url: activities(c) }), 400, /^agent: is required; action: is required$/],
  ['activities batch: no body', (c) => ({ method: 'POST', url: batch(c) }), 400, /^items: is required$/],

  // Arrays beyond their bounds.
  ['batch-get: 101 ids', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: ids(101) } }), 400, /^ids: must contain 1 to 100 items$/],
  ['batch-get: no ids', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: { ids: [] } }), 400, /^ids: must contain 1 to 100 items$/],
  ['bulk status: 1001 ids', () => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: ids(1001), status: 'active' } }), 400, /^ids: must contain 1 to 1000 items$/],
  ['bulk status: no ids', () => ({ method: 'PATCH', url: '/api/projects/status', payload: { ids: [], status: 'active' } }), 400, /^ids: must contain 1 to 1000 items$/],
  ['activities batch: 1001 items', (c) => ({ method: 'POST', url: batch(c), payload: { items: Array(1001).fill(ACTIVITY) } }), 400, /^items: must contain 1 to 1000 items$/],
  ['activities batch: no items', (c) => ({ method: 'POST', url: batch(c), payload: { items: [] } }), 400, /^items: must contain 1 to 1000 items$/],

  // Strings beyond their lengths.
  ['create project: name of 201 characters', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'n'.repeat(201) } }), 400, /^name: must be a string of 1 to 200 characters$/],
  ['create project: empty name', () => ({ method: 'POST', url: '/api/projects', payload: { name: '' } }), 400, /^name: must be a string of 1 to 200 characters$/],
  ['update project: name of 201 characters', (c) => ({ method: 'PATCH', url: project(c), payload: { name: 'n'.repeat(201) } }), 400, /^name: must be a string of 1 to 200 characters$/],
  ['create project: description of 10001 characters', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', description: 'd'.repeat(10_001) } }), 400, /^description: must be a string of at most 10000 characters$/],
  ['update project: description of 10001 characters', (c) => ({ method: 'PATCH', url: project(c), payload: { description: 'd'.repeat(10_001) } }), 400, /^description: must be a string of at most 10000 characters$/],
  ['create activity: agent of 101 characters', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, agent: 'a'.repeat(101) } }), 400, /^agent: must be a string of 1 to 100 characters$/],
  ['create activity: action of 101 characters', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, action: 'a'.repeat(101) } }), 400, /^action: must be a string of 1 to 100 characters$/],
  ['activities batch: agent of 101 characters in an item', (c) => ({ method: 'POST', url: batch(c), payload: { items: [{ ...ACTIVITY, agent: 'a'.repeat(101) }] } }), 400, /^items\.0\.agent: must be a string of 1 to 100 characters$/],
  ['list activities: agent filter of 101 characters', (c) => ({ method: 'GET', url: `${activities(c)}?agent=${'a'.repeat(101)}` }), 400, /^agent: must be a string of 1 to 100 characters$/],
  ['login: email of 255 characters', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: { ...LOGIN, email: `${'e'.repeat(243)}@example.com` } }), 400, /^email: must be an email address of at most 254 characters$/],
  ['create user: email of 255 characters', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { ...NEW_USER, email: `${'e'.repeat(243)}@example.com` } }), 400, /^email: must be an email address of at most 254 characters$/],
  ['login: password of 1025 characters', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: { ...LOGIN, password: 'p'.repeat(1025) } }), 400, /^password: must be a string of 1 to 1024 characters$/],
  ['create user: password of 7 characters', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { ...NEW_USER, password: 'seven77' } }), 400, /^password: must be a string of 8 to 1024 characters$/],
  ['create file: path of 1025 characters', (c) => ({ method: 'POST', url: files(c), payload: { path: 'p'.repeat(1025), content: 'x' } }), 400, /^path: must be at most 1024 characters$/],
  ['update file: path of 1025 characters', (c) => ({ method: 'PATCH', url: file(c), payload: { path: 'p'.repeat(1025) } }), 400, /^path: must be at most 1024 characters$/],
  ['list files: prefix of 1025 characters', (c) => ({ method: 'GET', url: `${files(c)}?prefix=${'p'.repeat(1025)}` }), 400, /^prefix: must be a string of at most 1024 characters$/],
  ['create file: language of 65 characters', (c) => ({ method: 'POST', url: files(c), payload: { path: 'a.txt', content: 'x', language: 'l'.repeat(65) } }), 400, /^language: must be a string of 1 to 64 characters$/],

  // Path rules.
  ['create file: absolute path', (c) => ({ method: 'POST', url: files(c), payload: { path: '/abs', content: 'x' } }), 400, /^path: must be relative/],
  ['create file: ../x', (c) => ({ method: 'POST', url: files(c), payload: { path: '../x', content: 'x' } }), 400, /^path: must not contain '\.' or '\.\.' segments$/],
  ['create file: a/../b', (c) => ({ method: 'POST', url: files(c), payload: { path: 'a/../b', content: 'x' } }), 400, /^path: must not contain '\.' or '\.\.' segments$/],
  ['create file: NUL in the path', (c) => ({ method: 'POST', url: files(c), payload: { path: 'a\u0000b', content: 'x' } }), 400, /^path: contains a NUL character$/],
  ['update file: ../x', (c) => ({ method: 'PATCH', url: file(c), payload: { path: '../x' } }), 400, /^path: must not contain '\.' or '\.\.' segments$/],
  ['update file: a\\..\\b', (c) => ({ method: 'PATCH', url: file(c), payload: { path: 'a\\..\\b' } }), 400, /^path: must not contain '\.' or '\.\.' segments$/],

  // Sizes: a payload over 64 KiB, content over FILE_MAX_BYTES (counted in UTF-8), a body over BODY_LIMIT_BYTES.
  ['create activity: payload of 64 KiB + 1 byte', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, payload: 'x'.repeat(65_535) } }), 413, /^payload: is 65537 bytes as JSON; at most 65536 are allowed$/],
  ['activities batch: item payload over 64 KiB', (c) => ({ method: 'POST', url: batch(c), payload: { items: [ACTIVITY, { ...ACTIVITY, payload: { x: 'x'.repeat(65_536) } }] } }), 413, /^items\.1\.payload: is \d+ bytes as JSON/],
  ['create file: content of FILE_MAX_BYTES + 1 bytes', (c) => ({ method: 'POST', url: files(c), payload: { path: 'big.txt', content: 'x'.repeat(FILE_MAX_BYTES + 1) } }), 413, /^content: is 1025 bytes of UTF-8, over the limit of 1024 bytes$/],
  ['create file: 513 characters that are 1026 bytes of UTF-8', (c) => ({ method: 'POST', url: files(c), payload: { path: 'big.txt', content: 'é'.repeat(513) } }), 413, /^content: is 1026 bytes of UTF-8/],
  ['update file: content of FILE_MAX_BYTES + 1 bytes', (c) => ({ method: 'PATCH', url: file(c), payload: { content: 'x'.repeat(FILE_MAX_BYTES + 1) } }), 413, /^content: is 1025 bytes/],
  ['create project: body over BODY_LIMIT_BYTES', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'x', description: 'd'.repeat(BODY_LIMIT_BYTES) } }), 413, /^Request body is too large$/],
  ['create file: body over BODY_LIMIT_BYTES', (c) => ({ method: 'POST', url: files(c), payload: { path: 'big.txt', content: 'x'.repeat(BODY_LIMIT_BYTES) } }), 413, /^Request body is too large$/],
  ['activities batch: body over BODY_LIMIT_BYTES', (c) => ({ method: 'POST', url: batch(c), payload: { items: Array(1000).fill({ ...ACTIVITY, payload: 'x'.repeat(100) }) } }), 413, /^Request body is too large$/],

  // Not JSON, or not declared as JSON.
  ['create project: truncated JSON', () => ({ method: 'POST', url: '/api/projects', payload: '{"name":', contentType: 'application/json' }), 400, /^body: is not valid JSON$/],
  ['batch-get: unquoted keys', () => ({ method: 'POST', url: '/api/projects/batch-get', payload: '{ids:[1]}', contentType: 'application/json' }), 400, /^body: is not valid JSON$/],
  ['update project: single quotes', (c) => ({ method: 'PATCH', url: project(c), payload: "{'name':'x'}", contentType: 'application/json' }), 400, /^body: is not valid JSON$/],
  ['create project: trailing garbage', () => ({ method: 'POST', url: '/api/projects', payload: '{"name":"x"} trailing', contentType: 'application/json' }), 400, /^body: is not valid JSON$/],
  ['create project: __proto__ key', () => ({ method: 'POST', url: '/api/projects', payload: '{"name":"x","__proto__":{"admin":true}}', contentType: 'application/json' }), 400, /^body: must not contain __proto__ or constructor\.prototype keys$/],
  ['create project: constructor.prototype key', () => ({ method: 'POST', url: '/api/projects', payload: '{"name":"x","constructor":{"prototype":{"admin":true}}}', contentType: 'application/json' }), 400, /^body: must not contain __proto__ or constructor\.prototype keys$/],
  // Only JSON is parsed: text/plain is not read as a string any more.
  ['create project: JSON sent as text/plain', () => ({ method: 'POST', url: '/api/projects', payload: '{"name":"x"}', contentType: 'text/plain' }), 415, /Unsupported Media Type/],
  ['login: JSON sent as text/plain', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: JSON.stringify(LOGIN), contentType: 'text/plain' }), 415, /Unsupported Media Type/],
  ['create project: application/xml', () => ({ method: 'POST', url: '/api/projects', payload: '<name>x</name>', contentType: 'application/xml' }), 415, /Unsupported Media Type/],
  ['create project: multipart/form-data', () => ({ method: 'POST', url: '/api/projects', payload: '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n', contentType: 'multipart/form-data; boundary=b' }), 415, /Unsupported Media Type/],

  // NUL bytes and lone surrogates: neither can be stored as UTF-8 text.
  ['create project: NUL in the name', () => ({ method: 'POST', url: '/api/projects', payload: { name: 'a\u0000b' } }), 400, /^name: contains a NUL character$/],
  ['update project: NUL in the description', (c) => ({ method: 'PATCH', url: project(c), payload: { description: 'a\u0000b' } }), 400, /^description: contains a NUL character$/],
  ['create activity: NUL in the agent', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, agent: 'a\u0000b' } }), 400, /^agent: contains a NUL character$/],
  ['create activity: NUL in a payload string', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, payload: { note: 'a\u0000b' } } }), 400, /^payload\.note: contains a NUL character$/],
  ['create file: NUL in the content', (c) => ({ method: 'POST', url: files(c), payload: { path: 'nul.txt', content: 'a\u0000b' } }), 400, /^content: contains a NUL character$/],
  ['get project: NUL in the id', () => ({ method: 'GET', url: '/api/projects/a%00b' }), 400, /^id: contains a NUL character$/],
  ['list files: NUL in the prefix', (c) => ({ method: 'GET', url: `${files(c)}?prefix=a%00b` }), 400, /^prefix: contains a NUL character$/],
  ['list activities: NUL in the agent filter', (c) => ({ method: 'GET', url: `${activities(c)}?agent=a%00b` }), 400, /^agent: contains a NUL character$/],
  ['create project: lone surrogate in the name', () => ({ method: 'POST', url: '/api/projects', payload: { name: LONE } }), 400, /^name: contains an unpaired UTF-16 surrogate/],
  ['create file: lone surrogate in the path', (c) => ({ method: 'POST', url: files(c), payload: { path: LONE, content: 'x' } }), 400, /^path: contains an unpaired UTF-16 surrogate/],
  ['create activity: lone surrogate in the action', (c) => ({ method: 'POST', url: activities(c), payload: { ...ACTIVITY, action: LONE } }), 400, /^action: contains an unpaired UTF-16 surrogate/],
  ['login: lone surrogate in the email', () => ({ method: 'POST', url: '/api/auth/login', as: 'nobody', payload: { ...LOGIN, email: `${LONE}@example.com` } }), 400, /^email: contains an unpaired UTF-16 surrogate/],
  ['create user: lone surrogate in the email', () => ({ method: 'POST', url: '/api/users', as: 'admin', payload: { ...NEW_USER, email: `${LONE}@example.com` } }), 400, /^email: contains an unpaired UTF-16 surrogate/],

  // SQL in query parameters that are validated: refused before any query runs.
  ['list projects: SQL in status', () => ({ method: 'GET', url: `/api/projects?status=${q("active' OR '1'='1")}` }), 400, /^status: must be one of active, archived, completed, draft$/],
  ['list projects: SQL in limit', () => ({ method: 'GET', url: `/api/projects?limit=${q('1; DROP TABLE projects')}` }), 400, /^limit: must be an integer from 1 to 100$/],
  ['list projects: SQL in cursor', () => ({ method: 'GET', url: `/api/projects?cursor=${q("' OR 1=1 --")}` }), 400, /^cursor: is invalid or was tampered with/],
  ['list users: UNION in limit', () => ({ method: 'GET', url: `/api/users?limit=${q('1 UNION SELECT password_hash FROM users')}`, as: 'admin' }), 400, /^limit: must be an integer from 1 to 100$/],
  ['get project: SQL in include', (c) => ({ method: 'GET', url: `${project(c)}?include=${q('files); DROP TABLE files; --')}` }), 400, /^include\.0: must be one of files, activities$/],
  ['list activities: SQL in order', (c) => ({ method: 'GET', url: `${activities(c)}?order=${q('asc; DELETE FROM agent_activities')}` }), 400, /^order: must be one of asc, desc$/],
  ['list activities: SQL in since', (c) => ({ method: 'GET', url: `${activities(c)}?since=${q("2025-01-01' OR '1'='1")}` }), 400, /^since: must be a date-time with a time zone/],

  // since / until that are not ISO-8601 date-times with a zone, or that PostgreSQL cannot hold.
  ['list activities: since=yesterday', (c) => ({ method: 'GET', url: `${activities(c)}?since=yesterday` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: since without a time', (c) => ({ method: 'GET', url: `${activities(c)}?since=2025-05-01` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: since without a zone', (c) => ({ method: 'GET', url: `${activities(c)}?since=2025-05-01T12:00:00` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: since as a week date', (c) => ({ method: 'GET', url: `${activities(c)}?since=2025-W18-1T12:00:00Z` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: until as epoch seconds', (c) => ({ method: 'GET', url: `${activities(c)}?until=1714560000` }), 400, /^until: must be a date-time with a time zone/],
  ['list activities: until on February 30th', (c) => ({ method: 'GET', url: `${activities(c)}?until=2025-02-30T00:00:00Z` }), 400, /^until: must be a date-time with a time zone/],
  ['list activities: since with hour 24', (c) => ({ method: 'GET', url: `${activities(c)}?since=2025-05-01T24:00:00Z` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: since with a +23:00 offset', (c) => ({ method: 'GET', url: `${activities(c)}?since=${q('2025-05-01T12:00:00+23:00')}` }), 400, /^since: must be a date-time with a time zone/],
  ['list activities: until with a -18:00 offset', (c) => ({ method: 'GET', url: `${activities(c)}?until=${q('2025-05-01T12:00:00-18:00')}` }), 400, /^until: must be a date-time with a time zone/],
];
