import { CanActivate, Controller, Get, Injectable, Module, Param, UseGuards, UseInterceptors } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { AppModule } from '../../src/app.module';
import { CacheService } from '../../src/cache/cache.service';
import { Cached } from '../../src/cache/cached.decorator';
import { CachedInterceptor } from '../../src/cache/cached.interceptor';
import type { AppConfig } from '../../src/config/app-config';
import { aUser, createProject, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

// Cache hits of @Cached routes are answered by the request pipeline before Nest runs. These tests
// hold that early answer to what Nest's path guarantees: the same access check, counted once.
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

  it('answers hits without Nest’s interceptor, with the same bytes and headers', async () => {
    const project = await createProject(sut.app, alice);
    const intercept = jest.spyOn(CachedInterceptor.prototype, 'intercept');

    const first = await get(alice.headers, `/api/projects/${project.id}`);
    const hits = [await get(alice.headers, `/api/projects/${project.id}`), await get(alice.headers, `/api/projects/${project.id}`)];

    expect(first.headers['x-cache']).toBe('MISS');
    expect(hits.map((r) => r.headers['x-cache'])).toEqual(['HIT', 'HIT']);
    expect(hits.map((r) => r.body)).toEqual([first.body, first.body]);
    // The interceptor runs for the miss only, never for the early hits.
    expect(intercept).toHaveBeenCalledTimes(1);
    intercept.mockRestore();
    // Every header of the Nest-served answer is on the early one too, the same but for those that
    // count down (remaining requests; seconds to the reset, which a second boundary may change).
    const perRequest = ['x-cache', 'x-request-id', 'date', 'ratelimit-remaining', 'x-ratelimit-remaining', 'ratelimit-reset', 'x-ratelimit-reset'];
    expect(Object.keys(hits[0].headers).sort()).toEqual(Object.keys(first.headers).sort());
    for (const header of Object.keys(first.headers).filter((h) => !perRequest.includes(h))) {
      expect([header, hits[0].headers[header]]).toEqual([header, first.headers[header]]);
    }
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

  it('refuses a revoked token with 401, though the answer is cached', async () => {
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

/** Counts the requests a guard or interceptor of a route's own sees. */
const seen = { guard: 0, interceptor: 0 };

@Injectable()
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    seen.guard++;
    return true;
  }
}

@Injectable()
class CountingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    seen.interceptor++;
    return next.handle();
  }
}

@Controller('probe')
class ProbeController {
  @Get('guarded/:id')
  @Cached({ tags: () => [] })
  @UseGuards(CountingGuard)
  guarded(@Param('id') id: string) {
    return { id };
  }

  @Get('intercepted/:id')
  @Cached({ tags: () => [] })
  @UseInterceptors(CountingInterceptor)
  intercepted(@Param('id') id: string) {
    return { id };
  }

  @Get('plain/:id')
  @Cached({ tags: () => [] })
  plain(@Param('id') id: string) {
    return { id };
  }
}

@Controller('probe-class')
@UseGuards(CountingGuard)
class GuardedProbeController {
  @Get(':id')
  @Cached({ tags: () => [] })
  get(@Param('id') id: string) {
    return { id };
  }
}

describe('routes with a guard or interceptor of their own (real PostgreSQL)', () => {
  let sut: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    @Module({})
    class ProbeModule {}
    sut = await bootApp({}, {
      module: (config: AppConfig) => ({
        module: ProbeModule,
        imports: [AppModule.register(config)],
        controllers: [ProbeController, GuardedProbeController],
        providers: [CountingGuard, CountingInterceptor],
      }),
    });
    user = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const get = (url: string) => sut.app.inject({ method: 'GET', url, headers: user.headers });

  it.each([
    ['a guard on the route', '/probe/guarded/1', 'guard'],
    ['an interceptor on the route', '/probe/intercepted/1', 'interceptor'],
    ['a guard on the controller', '/probe-class/1', 'guard'],
  ] as const)('never answers a route with %s before Nest: it runs on every hit', async (_label, url, which) => {
    const before = seen[which];

    const answers = [await get(url), await get(url), await get(url)];

    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(answers.map((r) => r.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT']);
    expect(seen[which] - before).toBe(3);
  });

  it('answers If-None-Match with a bare 304 from the interceptor, warm and cold', async () => {
    const first = await get('/probe/guarded/304');
    const etag = String(first.headers.etag);
    const warm = await sut.app.inject({ method: 'GET', url: '/probe/guarded/304', headers: { ...user.headers, 'if-none-match': etag } });
    await sut.app.get(CacheService).flush();
    const cold = await sut.app.inject({ method: 'GET', url: '/probe/guarded/304', headers: { ...user.headers, 'if-none-match': etag } });

    for (const [res, state] of [[warm, 'HIT'], [cold, 'MISS']] as const) {
      expect({ status: res.statusCode, bytes: res.rawPayload.length, cache: res.headers['x-cache'], etag: res.headers.etag }).toEqual({ status: 304, bytes: 0, cache: state, etag });
      expect(res.headers['content-type']).toBeUndefined();
      expect(res.headers['content-length']).toBeUndefined();
    }
  });

  it('answers a route with neither before Nest, from its first hit', async () => {
    const intercept = jest.spyOn(CachedInterceptor.prototype, 'intercept');

    const answers = [await get('/probe/plain/1'), await get('/probe/plain/1')];

    expect(answers.map((r) => r.headers['x-cache'])).toEqual(['MISS', 'HIT']);
    expect(intercept).toHaveBeenCalledTimes(1);
    intercept.mockRestore();
  });

  it('refuses a query parameter a route does not take, on every route', async () => {
    const res = await get('/probe/plain/1?n=1');

    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('n: is not allowed');
  });
});
