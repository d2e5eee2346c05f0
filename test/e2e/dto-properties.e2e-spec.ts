import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { aUser, createProject, tableCounts, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

/**
 * Property-based checks of the input DTOs through the real HTTP pipeline: whatever JSON arrives,
 * the answer is 2xx or a 4xx in the error shape, never a 5xx, and rejected input writes nothing.
 */
describe('input DTOs (property-based, real PostgreSQL)', () => {
  let sut: TestApp;
  let user: TestUser;
  let projectId: string;

  beforeAll(async () => {
    sut = await bootApp();
    user = await aUser(sut.app);
    projectId = (await createProject(sut.app, user)).id;
  });

  afterAll(async () => {
    await sut.close();
  });

  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const shapedLike = (keys: string[]) =>
    fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), anyJson, { maxKeys: 5 });

  const routes: [string, string, () => string, fc.Arbitrary<unknown>][] = [
    ['POST', 'project', () => '/api/projects', shapedLike(['name', 'description', 'status'])],
    ['PATCH', 'bulk status', () => '/api/projects/status', shapedLike(['ids', 'status'])],
    ['POST', 'batch-get', () => '/api/projects/batch-get', shapedLike(['ids'])],
    ['POST', 'file', () => `/api/projects/${projectId}/files`, shapedLike(['path', 'content', 'language'])],
    ['POST', 'activity', () => `/api/projects/${projectId}/activities`, shapedLike(['agent', 'action', 'payload'])],
    ['POST', 'activity batch', () => `/api/projects/${projectId}/activities/batch`, shapedLike(['items'])],
  ];

  it.each(routes)('%s %s: any JSON body gets 2xx or a 4xx error, never a 5xx', async (method, _name, url, body) => {
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const before = await tableCounts(sut.app);
        const res = await sut.app.inject({ method: method as 'POST', url: url(), headers: user.headers, payload: payload as object });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(Object.keys(res.json()).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
          expect(await tableCounts(sut.app)).toEqual(before);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('any query string on the list routes gets 200 or 400, never a 5xx', async () => {
    const query = fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'prefix', 'agent', 'since', 'order', 'x'), fc.string({ maxLength: 30 }), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/projects', `/api/projects/${projectId}/files`, `/api/projects/${projectId}/activities`), query, async (path, q) => {
        const res = await sut.app.inject({ method: 'GET', url: path, query: q, headers: user.headers });
        expect([200, 400]).toContain(res.statusCode);
      }),
      { numRuns: 60 },
    );
    expect(await sut.app.get(DataSource).query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });
});
