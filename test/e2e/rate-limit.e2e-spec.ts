import { aUser, createProject, TEST_PASSWORD } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

type Answer = Awaited<ReturnType<TestApp['app']['inject']>>;

const RATE_HEADERS = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];
const rateHeaders = (res: Answer) => Object.fromEntries(RATE_HEADERS.map((h) => [h, res.headers[h]]));

/** A 429's headers: the refusing tier's limit, nothing left, and one number of seconds for all three resets. */
function refusedBy(limit: number, res: Answer): Record<string, unknown> {
  const retryAfter = String(res.headers['retry-after']);
  expect(Number(retryAfter)).toBeGreaterThan(0);
  return {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': '0',
    'ratelimit-reset': retryAfter,
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': retryAfter,
    'retry-after': retryAfter,
  };
}

describe('rate limiting (real PostgreSQL)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await bootApp({
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_PER_MINUTE: '8',
      RATE_LIMIT_ANON_PER_MINUTE: '6',
      RATE_LIMIT_LOGIN_PER_MINUTE: '3',
    });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('counts down the RateLimit headers, then answers 429 with Retry-After in the error shape', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user); // 1 of 8
    const remaining: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('8');
      expect(res.headers['x-ratelimit-limit']).toBe('8');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      remaining.push(Number(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual([6, 5, 4, 3, 2, 1, 0]);

    const limited = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });

    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', requestId: expect.any(String) });
    expect(limited.json().message).toMatch(/sustained limit is 8 per 60 s/);
    expect(rateHeaders(limited)).toEqual(refusedBy(8, limited));
  });

  // The anonymous tier (6) reaches 0 remaining on the very request the login tier (3) refuses:
  // the headers must describe the login tier, which is the one that said no.
  it('describes the refusing tier on a 429, even when another tier is also at 0 remaining', async () => {
    const remoteAddress = '10.4.4.4';
    for (let i = 0; i < 2; i++) expect((await sut.app.inject({ method: 'GET', url: '/api/projects', remoteAddress })).statusCode).toBe(401);
    const attempt = () => sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'nobody@example.com', password: 'wrong' }, remoteAddress });
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);

    const refused = await attempt();

    expect(refused.statusCode).toBe(429);
    expect(refused.json().message).toMatch(/login limit is 3 per 60 s/);
    expect(rateHeaders(refused)).toEqual(refusedBy(3, refused));
  });

  it('limits each user on their own', async () => {
    const busy = await aUser(sut.app);
    const calm = await aUser(sut.app);
    for (let i = 0; i < 9; i++) await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: busy.headers });

    const res = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: calm.headers });

    expect(res.statusCode).toBe(200);
  });

  it('limits anonymous and bad-token traffic per client IP before authentication', async () => {
    const ip = { remoteAddress: '10.9.8.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await sut.app.inject({ method: 'GET', url: '/api/projects', headers: { authorization: 'Bearer pbt_guess' + i }, ...ip });
      statuses.push(res.statusCode);
    }

    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    const other = await sut.app.inject({ method: 'GET', url: '/api/projects', remoteAddress: '10.9.8.8' });
    expect(other.statusCode).toBe(401);
  });

  it('limits login attempts per IP', async () => {
    const user = await aUser(sut.app);
    const attempt = (password: string) =>
      sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password }, remoteAddress: '10.1.1.1' });

    const statuses = [(await attempt('wrong-1')).statusCode, (await attempt('wrong-2')).statusCode, (await attempt(TEST_PASSWORD)).statusCode];
    const fourth = await attempt(TEST_PASSWORD);

    expect(statuses).toEqual([401, 401, 201]);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().message).toMatch(/login limit is 3 per 60 s/);
  });

  it('never throttles health checks', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await sut.app.inject({ method: 'GET', url: '/health/live', remoteAddress: '10.2.2.2' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    expect((await sut.app.inject({ method: 'GET', url: '/health/ready', remoteAddress: '10.2.2.2' })).statusCode).toBe(200);
  });

  it('never throttles the API docs', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await sut.app.inject({ method: 'GET', url: '/docs-json', remoteAddress: '10.3.3.3' })).statusCode).toBe(200);
    }
  });
});

describe('rate limiting switched off', () => {
  it('lets everything through with RATE_LIMIT_ENABLED=false', async () => {
    const sut = await bootApp({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_ANON_PER_MINUTE: '1' });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await sut.app.inject({ method: 'GET', url: '/api/projects' });
        expect(res.statusCode).toBe(401);
      }
    } finally {
      await sut.close();
    }
  });
});

describe('client IP behind a proxy', () => {
  let sut: TestApp;

  afterEach(async () => {
    await sut.close();
  });

  it('believes X-Forwarded-For only from trusted proxies (TRUST_PROXY)', async () => {
    sut = await bootApp({ RATE_LIMIT_ANON_PER_MINUTE: '2', TRUST_PROXY: '127.0.0.1' });
    const viaProxy = (client: string) =>
      sut.app.inject({ method: 'GET', url: '/api/projects', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } });

    await viaProxy('203.0.113.1');
    await viaProxy('203.0.113.1');
    expect((await viaProxy('203.0.113.1')).statusCode).toBe(429);
    expect((await viaProxy('203.0.113.2')).statusCode).toBe(401);
  });

  it('ignores X-Forwarded-For from anyone else', async () => {
    sut = await bootApp({ RATE_LIMIT_ANON_PER_MINUTE: '2' });
    const spoofed = (client: string) =>
      sut.app.inject({ method: 'GET', url: '/api/projects', remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': client } });

    await spoofed('203.0.113.1');
    await spoofed('203.0.113.2');
    expect((await spoofed('203.0.113.3')).statusCode).toBe(429);
  });
});
