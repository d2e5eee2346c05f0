import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { TokenService } from '../../../src/auth/token.service';
import { CacheService } from '../../../src/cache/cache.service';
import { aUser, createProject, TestUser } from '../../support/factories';
import { freePort, ServerProcess } from '../../support/server-process';
import { TcpProxy } from '../../support/tcp-proxy';
import { bootApp, TestApp } from '../../support/test-app';
import { until } from '../../support/eventually';

// Runs against a real Redis when REDIS_URL is set (.ci/run sets it when a local Redis answers).
const redisUrl = process.env.REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;

const live = (app: TestApp) => app.app.get(CacheService).tagVersionStats().subscription_live;

/** The same high limits as test-app's, for a server process. */
const PROCESS_ENV = {
  NODE_ENV: 'test',
  CURSOR_SECRET: 'test-cursor-secret-0123456789',
  RATE_LIMIT_PER_SECOND: '1000000',
  RATE_LIMIT_PER_MINUTE: '10000000',
  RATE_LIMIT_ANON_PER_MINUTE: '1000000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
};

describeWithRedis('an instance started after a write (real server process, PostgreSQL and Redis)', () => {
  const namespace = `rv${randomUUID().slice(0, 8)}`;
  let a: TestApp;
  let b: ServerProcess;
  let bUrl: string;
  let user: TestUser;
  let admin: TestUser;
  let revoked: string;
  let project: { id: string };

  const onB = (path: string, token: string) => fetch(`${bUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    a = await bootApp({ REDIS_URL: redisUrl!, CACHE_NAMESPACE: namespace });
    await until(() => live(a));
    user = await aUser(a.app);
    admin = await aUser(a.app, { role: 'admin' });
    revoked = await a.app.get(TokenService).issue(user.id);
    project = await createProject(a.app, user, { name: 'old name' });
    const onA = (url: string, token = user.token) => a.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    // A caches the token and the project in its L1 and in Redis (L2), both at their tags' versions...
    expect((await onA('/api/auth/me', revoked)).statusCode).toBe(200);
    expect((await onA(`/api/projects/${project.id}`)).headers['x-cache']).toBe('MISS');
    expect((await onA(`/api/projects/${project.id}`)).headers['x-cache']).toBe('HIT');
    // ...then revokes the token and renames the project.
    expect((await a.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${revoked}` } })).statusCode).toBe(204);
    await a.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name: 'new name' } });

    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}`;
    b = new ServerProcess({ ...PROCESS_ENV, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: a.url, REDIS_URL: redisUrl!, CACHE_NAMESPACE: namespace });
    await b.waitFor(/listening on/);
    // B's subscription is live, so B reads (and confirms) versions from Redis rather than going blind to PostgreSQL.
    await until(async () => ((await (await onB('/debug/cache', admin.token)).json()) as { tag_versions: { subscription_live: boolean } }).tag_versions.subscription_live);
  }, 60_000);

  afterAll(async () => {
    b?.kill();
    await a?.close();
  });

  it('refuses a token revoked on A before B started, at once', async () => {
    const res = await onB('/api/auth/me', revoked);

    expect(res.status).toBe(401);
    expect((await onB('/api/auth/me', revoked)).status).toBe(401);
  });

  it('serves the name written on A before B started, not the entry cached under the old one', async () => {
    const first = await onB(`/api/projects/${project.id}`, user.token);
    const second = await onB(`/api/projects/${project.id}`, user.token);

    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(((await first.json()) as { name: string }).name).toBe('new name');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(((await second.json()) as { name: string }).name).toBe('new name');
  });
});

describeWithRedis('an instance whose Redis connections are cut while another writes (real PostgreSQL and Redis)', () => {
  const namespace = `rv${randomUUID().slice(0, 8)}`;
  let a: TestApp;
  let b: TestApp;
  let proxy: TcpProxy;
  let inspector: ReturnType<typeof createClient>;

  beforeAll(async () => {
    a = await bootApp({ REDIS_URL: redisUrl!, CACHE_NAMESPACE: namespace });
    const target = new URL(redisUrl!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    b = await bootApp({ REDIS_URL: `redis://127.0.0.1:${port}`, CACHE_NAMESPACE: namespace }, { url: a.url });
    inspector = createClient({ url: redisUrl });
    await inspector.connect();
    await until(() => live(a) && live(b));
  });

  afterAll(async () => {
    await inspector?.close();
    await b?.close();
    await a?.close();
    await proxy?.cut();
  });

  /** Sets up a user, a second token and a project that B has cached (token and answer) and trusts. */
  async function cachedOnB(name: string) {
    const user = await aUser(a.app);
    const token = await a.app.get(TokenService).issue(user.id);
    const project = await createProject(a.app, user, { name });
    const read = () => b.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
    const me = () => b.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me()).statusCode).toBe(200);
    await read();
    expect((await read()).headers['x-cache']).toBe('HIT');
    return { user, token, project, read, me };
  }

  /** A writes while B cannot hear about it: a new name, and the second token revoked. */
  async function writeOnA(setup: Awaited<ReturnType<typeof cachedOnB>>, name: string) {
    const { user, token, project } = setup;
    await a.app.inject({ method: 'PATCH', url: `/api/projects/${project.id}`, headers: user.headers, payload: { name } });
    await a.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } });
  }

  /** Once B trusts Redis again it caches again, and every answer on the way is the new one. */
  async function expectCachedAgain(read: () => ReturnType<TestApp['app']['inject']>, name: string) {
    await until(async () => {
      const res = await read();
      expect(res.json().name).toBe(name);
      return res.headers['x-cache'] === 'HIT';
    });
  }

  /** The proxy's port towards Redis for B's subscriber connection, found in Redis' CLIENT LIST. */
  async function subscriberPort(): Promise<number> {
    const clients = (await inspector.sendCommand(['CLIENT', 'LIST'])) as string;
    const ports = new Set(proxy.upstreamPorts());
    const port = clients
      .split('\n')
      .filter((line) => / sub=1 /.test(line))
      .map((line) => Number(/ addr=[^ ]+:(\d+) /.exec(line)?.[1]))
      .find((p) => ports.has(p));
    if (port === undefined) throw new Error('no subscriber connection through the proxy');
    return port;
  }

  it('keeps a version key in Redis just longer than an entry can live, not a day', async () => {
    const setup = await cachedOnB('before');
    await writeOnA(setup, 'after');

    const ttl = await inspector.pTTL(`${namespace}:tagv:project:${setup.project.id}`);
    // CACHE_TTL_MS 30 s with +10 % jitter, CACHE_STALE_MS 60 s, and a 5 s margin.
    expect(ttl).toBeGreaterThan(90_000);
    expect(ttl).toBeLessThanOrEqual(98_000);
  });

  /** While B cannot confirm versions: every read is the new name from PostgreSQL, and the token is refused. */
  async function expectFreshFromDatabase(setup: Awaited<ReturnType<typeof cachedOnB>>): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const res = await setup.read();
      expect(res.json().name).toBe('after');
      expect(res.headers['x-cache']).toBe('MISS');
    }
    expect((await setup.me()).statusCode).toBe(401);
  }

  it('never serves the pre-write answer from L1 when only its subscriber connection was cut, nor after it is back', async () => {
    const setup = await cachedOnB('before');

    proxy.refuseNew = true;
    proxy.drop(await subscriberPort());
    await until(() => !live(b));
    await writeOnA(setup, 'after');

    await expectFreshFromDatabase(setup);

    proxy.refuseNew = false;
    await until(() => live(b));
    await expectCachedAgain(setup.read, 'after');
    expect((await setup.me()).statusCode).toBe(401);
  });

  it('stops trusting Redis within seconds when its subscriber connection goes silent without closing', async () => {
    const setup = await cachedOnB('before');

    proxy.freeze(await subscriberPort());
    await writeOnA(setup, 'after');
    const started = Date.now();
    // Nothing tells B at once that the message was lost; its check of the connection must.
    await until(async () => (await setup.read()).json().name === 'after', 15_000);
    const detectedMs = Date.now() - started;

    expect((await setup.me()).statusCode).toBe(401);
    await until(() => live(b), 10_000);
    await expectCachedAgain(setup.read, 'after');
    expect(detectedMs).toBeLessThan(10_000);
    console.info(`[figures] silent subscriber connection: B stopped trusting after ${detectedMs} ms`);
  }, 40_000);

  it('never serves the pre-write answer while all of its Redis connections are cut, nor after they are back', async () => {
    const setup = await cachedOnB('before');

    await proxy.cut();
    await until(() => !live(b));
    await writeOnA(setup, 'after');

    await expectFreshFromDatabase(setup);

    await proxy.restore();
    await until(() => live(b));
    await expectCachedAgain(setup.read, 'after');
    expect((await setup.me()).statusCode).toBe(401);
  });

  it('sends a write it made while Redis was unreachable once Redis is back, so the other instance drops its copy', async () => {
    const setup = await cachedOnB('before');
    const readOnA = () => a.app.inject({ method: 'GET', url: `/api/projects/${setup.project.id}`, headers: setup.user.headers });
    await readOnA();
    expect((await readOnA()).headers['x-cache']).toBe('HIT');

    await proxy.cut();
    await until(() => !live(b));
    const write = await b.app.inject({ method: 'PATCH', url: `/api/projects/${setup.project.id}`, headers: setup.user.headers, payload: { name: 'written on B' } });
    expect(write.statusCode).toBe(200);
    const onB = await setup.read();
    expect(onB.json().name).toBe('written on B');
    expect(onB.headers['x-cache']).toBe('MISS');
    expect(b.app.get(CacheService).tagVersionStats().pending_bumps).toBeGreaterThan(0);

    await proxy.restore();
    await until(async () => (await readOnA()).json().name === 'written on B');
    expect(b.app.get(CacheService).tagVersionStats().pending_bumps).toBe(0);
    await expectCachedAgain(setup.read, 'written on B');
  });

  it('drops its in-memory entries when Redis comes back without its data (a restart without persistence)', async () => {
    const user = await aUser(a.app);
    const project = await createProject(a.app, user, { name: 'before' });
    const read = (url: string) => b.app.inject({ method: 'GET', url, headers: user.headers });
    const plain = `/api/projects/${project.id}`;
    const withFiles = `${plain}?include=files`;
    await read(withFiles);
    expect((await read(withFiles)).headers['x-cache']).toBe('HIT');
    // Both entries were stored while the project's tag had never been bumped (version 0).
    await a.app.inject({ method: 'PATCH', url: plain, headers: user.headers, payload: { name: 'after' } });
    await until(async () => (await read(plain)).json().name === 'after');

    // Redis restarts empty: the version keys are gone (so the tag reads as 0 again) and every
    // connection drops. Only this test's namespace is wiped: other suites share the server.
    for await (const keys of inspector.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1_000 })) if (keys.length > 0) await inspector.del(keys);
    await proxy.cut();
    await until(() => !live(b));
    await proxy.restore();
    await until(() => live(b));

    const res = await read(withFiles);
    expect(res.json().name).toBe('after');
    expect(res.headers['x-cache']).toBe('MISS');
  });

  it('caches nothing while Redis is unreachable from the start, and trusts it once it is reachable', async () => {
    const target = new URL(redisUrl!);
    const unreachable = new TcpProxy(target.hostname, Number(target.port || 6379));
    unreachable.refuseNew = true;
    const port = await unreachable.start();
    const c = await bootApp({ REDIS_URL: `redis://127.0.0.1:${port}`, CACHE_NAMESPACE: namespace }, { url: a.url });
    try {
      const user = await aUser(a.app);
      const token = await a.app.get(TokenService).issue(user.id);
      const project = await createProject(a.app, user, { name: 'only name' });
      const read = () => c.app.inject({ method: 'GET', url: `/api/projects/${project.id}`, headers: user.headers });
      const me = () => c.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });

      expect((await me()).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await read()).headers['x-cache']).toBe('MISS');
      await a.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } });
      expect((await me()).statusCode).toBe(401);

      unreachable.refuseNew = false;
      await until(() => live(c));
      await expectCachedAgain(read, 'only name');
    } finally {
      await c.close();
      await unreachable.cut();
    }
  });
});
