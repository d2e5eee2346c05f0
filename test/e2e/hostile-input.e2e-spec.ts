import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface HostileRequest {
  readonly name: string;
  readonly method: Method;
  readonly url: string;
  readonly body?: string;
  readonly contentType?: string;
}

/** A checksum of every row of every table: "the database is byte-for-byte unchanged". */
async function databaseChecksum(db: DataSource): Promise<string> {
  const tables = ['users', 'api_tokens', 'projects', 'files', 'agent_activities'];
  const parts: string[] = [];
  for (const table of tables) {
    const [row] = await db.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM ${table} t`);
    parts.push(`${table}:${row.n}:${row.sum}`);
  }
  return parts.join(' ');
}

const BAD_IDS = [
  '1',
  'not-a-uuid',
  "' OR 1=1 --",
  '%27%3B%20DROP%20TABLE%20projects%3B--',
  '%00',
  'a'.repeat(300),
  `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(11)}`,
  '{00000000-0000-4000-8000-000000000000}',
  '%E2%80%AE%E2%80%AD',
  '..%2F..%2Fetc%2Fpasswd',
];

const BAD_LIMITS = ['-1', '0', '101', '1000000000', '1e3', '0x10', 'NaN', '', '1;DROP TABLE projects', '[]', '1.5', '%00'];

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/**
 * A generated corpus of hostile requests across every route: each must get a 4xx in the one JSON
 * error shape (no 5xx, no stack trace, no SQL), and the database must be byte-for-byte unchanged.
 */
describe('hostile input corpus (real PostgreSQL)', () => {
  let sut: TestApp;
  let owner: TestUser;
  let corpus: HostileRequest[];

  beforeAll(async () => {
    sut = await bootApp();
    owner = await aUser(sut.app);
    const project = await createProject(sut.app, owner);
    const file = (
      await sut.app.inject({ method: 'POST', url: `/api/projects/${project.id}/files`, headers: owner.headers, payload: { path: 'a.ts', content: 'x' } })
    ).json();
    const cursor = (await sut.app.inject({ method: 'GET', url: '/api/projects?limit=1', headers: owner.headers })).json().nextCursor ?? 'x.y';
    await createProject(sut.app, owner);
    const p = project.id;
    const f = file.id;

    const idRoutes: [Method, (id: string) => string][] = [
      ['GET', (id) => `/api/projects/${id}`],
      ['PATCH', (id) => `/api/projects/${id}`],
      ['DELETE', (id) => `/api/projects/${id}`],
      ['GET', (id) => `/api/projects/${id}/files`],
      ['POST', (id) => `/api/projects/${id}/files`],
      ['GET', (id) => `/api/projects/${p}/files/${id}`],
      ['PATCH', (id) => `/api/projects/${p}/files/${id}`],
      ['DELETE', (id) => `/api/projects/${p}/files/${id}`],
      ['GET', (id) => `/api/projects/${id}/files/${f}`],
      ['GET', (id) => `/api/projects/${id}/activities`],
      ['POST', (id) => `/api/projects/${id}/activities`],
      ['POST', (id) => `/api/projects/${id}/activities/batch`],
    ];
    const validBodies: Record<string, string> = {
      'PATCH /api/projects/': JSON.stringify({ name: 'hacked' }),
      files: JSON.stringify({ path: 'evil.ts', content: 'x' }),
      activities: JSON.stringify({ agent: 'a', action: 'b' }),
      batch: JSON.stringify({ items: [{ agent: 'a', action: 'b' }] }),
    };
    const bodyFor = (method: Method, url: string) =>
      method === 'GET' || method === 'DELETE'
        ? undefined
        : url.endsWith('/batch')
          ? validBodies.batch
          : url.includes('/activities')
            ? validBodies.activities
            : url.includes('/files')
              ? method === 'PATCH'
                ? JSON.stringify({ content: 'hacked' })
                : validBodies.files
              : validBodies['PATCH /api/projects/'];

    corpus = [];
    for (const [method, route] of idRoutes) {
      for (const bad of BAD_IDS) {
        const url = route(bad);
        corpus.push({ name: `${method} ${url.slice(0, 80)}`, method, url, body: bodyFor(method, url) });
      }
    }
    for (const list of ['/api/projects', `/api/projects/${p}/files`, `/api/projects/${p}/activities`, '/api/users']) {
      for (const limit of BAD_LIMITS) corpus.push({ name: `GET ${list}?limit=${limit}`, method: 'GET', url: `${list}?limit=${limit}` });
      const [body, signature] = cursor.split('.');
      const forged = Buffer.from(JSON.stringify(["2000-01-01' OR '1'='1", "1; DROP TABLE projects"])).toString('base64url');
      for (const c of [cursor.slice(0, -3), `${cursor}x`, `${forged}.${signature}`, `${body}.`, `.${signature}`, 'x'.repeat(600), '%00', '../../etc']) {
        corpus.push({ name: `GET ${list} cursor ${c.slice(0, 20)}`, method: 'GET', url: `${list}?cursor=${encodeURIComponent(c)}` });
      }
    }
    const bodyRoutes: [Method, string][] = [
      ['POST', '/api/projects'],
      ['PATCH', `/api/projects/${p}`],
      ['POST', '/api/projects/batch-get'],
      ['PATCH', '/api/projects/status'],
      ['POST', `/api/projects/${p}/files`],
      ['PATCH', `/api/projects/${p}/files/${f}`],
      ['POST', `/api/projects/${p}/activities`],
      ['POST', `/api/projects/${p}/activities/batch`],
      ['POST', '/api/auth/login'],
    ];
    const hostileBodies: [string, string, string?][] = [
      ['nested 10000 deep', nested(10_000)],
      ['nested 40 deep in a field', `{"name":${nested(40)},"path":${nested(40)},"ids":${nested(40)},"items":${nested(40)}}`],
      ['prototype pollution', '{"__proto__":{"admin":true},"name":"x"}'],
      ['constructor pollution', '{"constructor":{"prototype":{"admin":true}},"name":"x"}'],
      ['duplicate keys, last one wrong', '{"name":"ok","name":12345,"path":"a","path":{},"agent":"a","agent":[]}'],
      ['truncated JSON', '{"name": "x", "status": "act'],
      ['JSON with trailing garbage', '{"name":"x"} DROP TABLE projects'],
      ['a JSON string', '"SELECT * FROM users"'],
      ['huge array', JSON.stringify({ ids: Array.from({ length: 20_000 }, () => randomUUID()), items: new Array(20_000).fill(0) })],
      ['NUL in every field', JSON.stringify({ name: 'a\u0000', path: 'a\u0000', agent: 'a\u0000', action: 'b', content: '\u0000', email: 'a\u0000@x.io', password: 'x', ids: ['\u0000'] })],
      ['unpaired surrogates', '{"name":"\\ud800","path":"\\udfff","agent":"\\ud83d","action":"x","email":"\\ud800@x.io","password":"x"}'],
      ['path traversal', JSON.stringify({ path: '../../../etc/passwd', content: 'x', name: 'x/../../y' })],
      ['xml instead of json', '<project><name>x</name></project>', 'application/xml'],
      ['form body', 'name=x&status=active', 'application/x-www-form-urlencoded'],
    ];
    for (const [method, url] of bodyRoutes) {
      for (const [what, body, contentType] of hostileBodies) corpus.push({ name: `${method} ${url} ${what}`, method, url, body, contentType });
    }
    corpus.push({ name: 'POST /api/projects 8 MiB body', method: 'POST', url: '/api/projects', body: JSON.stringify({ name: 'x'.repeat(8 * 1024 * 1024) }) });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('answers every request with a 4xx JSON error, leaks nothing, and changes nothing', async () => {
    const db = sut.app.get(DataSource);
    const before = await databaseChecksum(db);
    const failures: string[] = [];

    for (const request of corpus) {
      const res = await sut.app.inject({
        method: request.method,
        url: request.url,
        headers: { ...owner.headers, ...(request.body !== undefined ? { 'content-type': request.contentType ?? 'application/json' } : {}) },
        payload: request.body,
      });
      let body: Record<string, unknown> | undefined;
      try {
        body = res.json();
      } catch {
        body = undefined;
      }
      const problems = [
        res.statusCode >= 400 && res.statusCode < 500 ? '' : `status ${res.statusCode}`,
        body && Object.keys(body).sort().join() === 'error,message,requestId,statusCode' ? '' : `shape ${res.body.slice(0, 100)}`,
        /\bat \S+ \(|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|QueryFailedError|node_modules/.test(res.body) ? 'leaks internals' : '',
      ].filter(Boolean);
      if (problems.length > 0) failures.push(`${request.name}: ${problems.join(', ')}`);
    }

    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([]);
    expect(await databaseChecksum(db)).toBe(before);
  }, 120_000);
});
