import { randomUUID } from 'node:crypto';
import { CacheService } from '../../src/cache/cache.service';
import { RedisConnection } from '../../src/cache/redis-connection';
import { aUser, createProject, TestUser } from '../support/factories';
import { TcpProxy } from '../support/tcp-proxy';
import { bootApp, TestApp } from '../support/test-app';
import { until } from '../support/eventually';

// Runs against a real Redis when REDIS_URL is set (.ci/run sets it when a local Redis answers).
const redisUrl = process.env.REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;

async function redisReady(app: TestApp): Promise<void> {
  await until(async () => app.app.get(RedisConnection).ready, 5_000);
}

/** An app that reaches the real Redis through a proxy the test can cut or slow down. */
async function bootBehindProxy(): Promise<{ proxy: TcpProxy; sut: TestApp }> {
  const target = new URL(redisUrl!);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
  const port = await proxy.start();
  const sut = await bootApp({ REDIS_URL: `redis://127.0.0.1:${port}`, CACHE_NAMESPACE: `t${randomUUID().slice(0, 8)}` });
  return { proxy, sut };
}

describeWithRedis('two instances sharing Redis (real PostgreSQL and Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let user: TestUser;
  const env = () => ({ REDIS_URL: redisUrl!, CACHE_NAMESPACE: `t${randomUUID().slice(0, 8)}`, RATE_LIMIT_PER_MINUTE: '10' });

  beforeAll(async () => {
    const shared = env();
    a = await bootApp(shared);
    b = await bootApp(shared, { url: a.url });
    await Promise.all([redisReady(a), redisReady(b)]);
    user = await aUser(a.app);
  });

  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('enforces one rate limit across both instances', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) {
      const app = i % 2 === 0 ? a : b;
      statuses.push((await app.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode);
    }

    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
  });

  it('shares entries through L2 and carries invalidations to the other instance’s L1', async () => {
    const other = await aUser(a.app);
    const project = await createProject(a.app, other, { name: 'v1' });
    const read = (app: TestApp) => app.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: other.headers });

    expect((await read(a)).headers['x-cache']).toBe('MISS');
    const fromL2 = await read(b);
    expect(fromL2.headers['x-cache']).toBe('HIT');
    expect((await read(b)).json().name).toBe('v1');

    await a.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: other.headers, payload: { name: 'v2' } });

    await until(async () => (await read(b)).json().name === 'v2', 500);
  });

  it('revokes a token on every instance', async () => {
    const someone = await aUser(a.app);
    expect((await b.app.inject({ method: 'GET', url: '/api/auth/me', headers: someone.headers })).statusCode).toBe(200);

    await a.app.inject({ method: 'POST', url: '/api/auth/logout', headers: someone.headers });

    await until(async () => (await b.app.inject({ method: 'GET', url: '/api/auth/me', headers: someone.headers })).statusCode === 401, 500);
  });
});

describeWithRedis('Redis going away (real PostgreSQL and Redis)', () => {
  it('keeps serving reads, writes and rate limits locally with no 5xx, and recovers', async () => {
    const { proxy, sut } = await bootBehindProxy();
    try {
      await redisReady(sut);
      const user = await aUser(sut.app);
      const project = await createProject(sut.app, user);

      await proxy.cut();
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers })).statusCode);
        statuses.push(
          (await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name: `n${i}` } })).statusCode,
        );
      }
      const read = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });

      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(read.json().name).toBe('n19');
      expect(sut.app.get(RedisConnection).errors).toBeGreaterThan(0);

      await proxy.restore();
      await redisReady(sut);
      const after = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      expect(after.statusCode).toBe(200);
      expect(sut.app.get(CacheService).stats().length).toBe(3);
    } finally {
      await sut.close();
      await proxy.cut();
    }
  });
});

describeWithRedis('Redis slow (real PostgreSQL and Redis)', () => {
  it('falls back to local state quickly instead of making every request wait, and recovers', async () => {
    const { proxy, sut } = await bootBehindProxy();
    try {
      await redisReady(sut);
      const user = await aUser(sut.app);
      const project = await createProject(sut.app, user);

      proxy.delayMs = 1_000;
      const timings: number[] = [];
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = Date.now();
        const write = await sut.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name: `s${i}` } });
        const read = await sut.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
        timings.push(Date.now() - started);
        statuses.push(write.statusCode, read.statusCode);
        expect(read.json().name).toBe(`s${i}`);
      }

      expect(statuses.every((s) => s === 200)).toBe(true);
      // Only the first calls wait for the timeout; then Redis is skipped for a while.
      expect(timings.slice(5).every((ms) => ms < 250)).toBe(true);

      proxy.delayMs = 0;
      await new Promise((r) => setTimeout(r, 2_100));
      await expect(sut.app.get(RedisConnection).call((c) => c.ping())).resolves.toBe('PONG');
      const after = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
      expect(after.statusCode).toBe(200);
    } finally {
      await sut.close();
      await proxy.cut();
    }
  }, 30_000);
});
