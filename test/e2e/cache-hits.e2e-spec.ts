import { CachedRoutes } from '../../src/cache/cached-routes';
import { aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

// Cache hits of a learned @Cached route are answered by CacheHitsHook before Nest runs. These
// tests hold that early answer to what Nest's path guarantees: the same guard, counted once.
describe('cache hits answered before Nest (real PostgreSQL)', () => {
  let sut: TestApp;
  let alice: TestUser;

  // Six requests a minute per user, the tightest tier: each test uses users of its own.
  beforeAll(async () => {
    sut = await bootApp({ RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_PER_MINUTE: '6' });
  });

  beforeEach(async () => {
    alice = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const get = (headers: Record<string, string>, url: string) => sut.app.inject({ method: 'GET', url, headers });

  it('learns the route on the first request and answers later hits without Nest’s interceptor', async () => {
    const project = await createProject(sut.app, alice);
    const learn = jest.spyOn(sut.app.get(CachedRoutes), 'learn');

    const first = await get(alice.headers, `/api/projects/${project.id}`);
    const hits = [await get(alice.headers, `/api/projects/${project.id}`), await get(alice.headers, `/api/projects/${project.id}`)];

    expect(first.headers['x-cache']).toBe('MISS');
    expect(hits.map((r) => r.headers['x-cache'])).toEqual(['HIT', 'HIT']);
    expect(hits.map((r) => r.body)).toEqual([first.body, first.body]);
    // learn() runs in the interceptor only: once for the miss, never for the early hits.
    expect(learn).toHaveBeenCalledTimes(1);
    learn.mockRestore();
    // Every header of the Nest-served answer is on the early one too.
    const sameEverywhere = Object.keys(first.headers).filter((h) => !['x-cache', 'x-request-id', 'date', 'ratelimit-remaining', 'x-ratelimit-remaining'].includes(h));
    for (const header of sameEverywhere) expect([header, hits[0].headers[header]]).toEqual([header, first.headers[header]]);
  });

  it('counts each early hit once against the rate limit, and answers 429 in the one error shape', async () => {
    const project = await createProject(sut.app, alice);
    await get(alice.headers, `/api/projects/${project.id}`);

    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await get(alice.headers, `/api/projects/${project.id}`));

    expect(answers.map((r) => r.headers['x-cache'])).toEqual(['HIT', 'HIT', 'HIT', 'HIT', undefined]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 429]);
    expect(answers.slice(0, 4).map((r) => r.headers['ratelimit-remaining'])).toEqual(['3', '2', '1', '0']);
    const refused = answers[4];
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining('sustained limit is 6'),
      requestId: refused.headers['x-request-id'],
    });
  });

  it('refuses a revoked token on a learned route with 401, though the answer is cached', async () => {
    const project = await createProject(sut.app, alice);
    await get(alice.headers, `/api/projects/${project.id}`);
    expect((await get(alice.headers, `/api/projects/${project.id}`)).headers['x-cache']).toBe('HIT');

    expect((await sut.app.inject({ method: 'POST', url: '/api/auth/logout', headers: alice.headers })).statusCode).toBe(204);
    const after = await get(alice.headers, `/api/projects/${project.id}`);
    const anonymous = await get({}, `/api/projects/${project.id}`);

    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', requestId: after.headers['x-request-id'] });
    expect(anonymous.statusCode).toBe(401);
    expect(after.body).not.toContain(project.id);
  });

  it('never answers another user from the owner’s entry, and honours If-None-Match', async () => {
    const bob = await aUser(sut.app);
    const project = await createProject(sut.app, alice);
    const owner = await get(alice.headers, `/api/projects/${project.id}`);
    await get(alice.headers, `/api/projects/${project.id}`);

    const other = await get(bob.headers, `/api/projects/${project.id}`);
    const otherWithEtag = await get({ ...bob.headers, 'if-none-match': String(owner.headers.etag) }, `/api/projects/${project.id}`);
    const notModified = await get({ ...alice.headers, 'if-none-match': String(owner.headers.etag) }, `/api/projects/${project.id}`);

    expect(other.statusCode).toBe(404);
    expect(otherWithEtag.statusCode).toBe(404);
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers['x-cache']).toBe('HIT');
    expect(notModified.body).toBe('');
  });

  it('does not answer HEAD or unknown query parameters early', async () => {
    const project = await createProject(sut.app, alice);
    await get(alice.headers, `/api/projects/${project.id}`);

    const head = await sut.app.inject({ method: 'HEAD', url: `/api/projects/${project.id}`, headers: alice.headers });
    const unknown = await get(alice.headers, `/api/projects/${project.id}?sneaky=1`);

    expect(head.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(400);
  });
});

describe('CachedRoutes', () => {
  const context = (handler: object, controller: object) =>
    ({ getHandler: () => handler, getClass: () => controller }) as unknown as Parameters<CachedRoutes['learn']>[1];
  const request = (url: string) => ({ method: 'GET', routeOptions: { url } }) as unknown as Parameters<CachedRoutes['learn']>[0];
  const options = { tags: () => [] };

  class Learner {}

  it("learns a route with only the global enhancers and @Cached's interceptor", () => {
    const routes = new CachedRoutes();
    const handler = function handler() {};
    Reflect.defineMetadata('__interceptors__', [Learner], handler);
    routes.learn(request('/a/:id'), context(handler, class Plain {}), options, Learner);

    expect(routes.forRequest(request('/a/:id'))).toBeDefined();
    expect(routes.forRequest({ ...request('/a/:id'), method: 'HEAD' } as never)).toBeUndefined();
  });

  it('never learns a route with a guard or interceptor of its own', () => {
    const routes = new CachedRoutes();
    const guarded = function guarded() {};
    Reflect.defineMetadata('__guards__', [class Extra {}], guarded);
    class Intercepted {}
    Reflect.defineMetadata('__interceptors__', [class Extra {}], Intercepted);

    const alsoIntercepted = function alsoIntercepted() {};
    Reflect.defineMetadata('__interceptors__', [Learner, class Extra {}], alsoIntercepted);

    routes.learn(request('/g'), context(guarded, class Plain {}), options, Learner);
    routes.learn(request('/i'), context(function handler() {}, Intercepted), options, Learner);
    routes.learn(request('/j'), context(alsoIntercepted, class Plain {}), options, Learner);

    expect(routes.forRequest(request('/g'))).toBeUndefined();
    expect(routes.forRequest(request('/i'))).toBeUndefined();
    expect(routes.forRequest(request('/j'))).toBeUndefined();
  });
});
