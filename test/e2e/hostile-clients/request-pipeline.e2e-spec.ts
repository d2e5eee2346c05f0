import { gzipSync } from 'node:zlib';
import { recordFigure } from '../../support/figures';
import { rssMb, timedFetch } from '../../support/raw-client';
import { freePort, ServerProcess } from '../../support/server-process';
import { createTestDatabase, dropTestDatabase } from '../../support/test-database';

const ADMIN = { email: 'hostile-admin@example.com', password: 'hostile-admin-password' };

/**
 * One client trying to stall or exhaust the server, over real HTTP against the built server
 * process (`npm start` as it runs): every refusal must come before the body is read or parsed.
 * Time bounds are generous (the unfixed server took seconds); they tell "no parse" from "parse".
 */
describe('hostile clients: the request pipeline (server process, real PostgreSQL)', () => {
  let url: string;
  let server: ServerProcess;
  let base: string;
  let token: string;
  let clients = 0;
  /** A client address of its own (X-Forwarded-For, TRUST_PROXY=true), so tests do not share limits. */
  const client = () => `198.51.100.${++clients}`;

  beforeAll(async () => {
    url = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new ServerProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      TRUST_PROXY: 'true',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_ANON_PER_MINUTE: '5',
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
      RATE_LIMIT_LOGIN_ACCOUNT_PER_MINUTE: '3',
    });
    await server.waitFor(/listening on/);
    token = (await login(ADMIN.email, ADMIN.password, client())).token;
  }, 60_000);

  afterAll(async () => {
    server?.kill();
    await dropTestDatabase(url);
  });

  async function login(email: string, password: string, from: string): Promise<{ status: number; token: string }> {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ email, password }),
    });
    const body = (await res.json()) as { token: string };
    return { status: res.status, token: body.token };
  }

  const authed = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, 'x-forwarded-for': client(), ...extra });
  const json = { 'content-type': 'application/json' };
  // 6 MB of nesting: the unfixed server parsed it for 4 s before looking at the token.
  const deep = '['.repeat(3_000_000) + ']'.repeat(3_000_000);

  it('refuses an anonymous deep-JSON body with 401 before reading it, while /health/live stays fast', async () => {
    const attack = timedFetch(`${base}/api/projects`, { method: 'POST', headers: { ...json, 'x-forwarded-for': client() }, body: deep });
    await new Promise((r) => setTimeout(r, 20));
    const live = await timedFetch(`${base}/health/live`);
    const refused = await attack;
    recordFigure('anonymous 6 MB deep-JSON POST answered 401 in', Math.round(refused.ms), 'ms');
    recordFigure('/health/live during that request', Math.round(live.ms), 'ms');

    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ statusCode: 401, error: 'Unauthorized', requestId: expect.any(String) });
    expect(refused.ms).toBeLessThan(500);
    expect(live.status).toBe(200);
    expect(live.ms).toBeLessThan(200);
  });

  it('answers a client over its limit 429 without parsing its body, bad JSON included', async () => {
    const from = client();
    for (let i = 0; i < 5; i++) await fetch(`${base}/api/projects`, { headers: { 'x-forwarded-for': from } });

    const deepFromLimited = await timedFetch(`${base}/api/projects`, { method: 'POST', headers: { ...json, 'x-forwarded-for': from }, body: deep });
    const badFromLimited = await timedFetch(`${base}/api/projects`, { method: 'POST', headers: { ...json, 'x-forwarded-for': from }, body: '{bad' });
    recordFigure('over-limit client, 6 MB deep-JSON POST answered 429 in', Math.round(deepFromLimited.ms), 'ms');

    expect(deepFromLimited.status).toBe(429);
    expect(deepFromLimited.ms).toBeLessThan(500);
    expect(badFromLimited.status).toBe(429);
    expect(Number(badFromLimited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('refuses a signed-in deep-JSON body with 400 after scanning only its first levels', async () => {
    const refused = await timedFetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...json }, body: deep });
    recordFigure('signed-in 6 MB deep-JSON POST answered 400 in', Math.round(refused.ms), 'ms');

    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).message).toBe('body: nested deeper than 32 levels');
    expect(refused.ms).toBeLessThan(500);
  });

  it('answers an unknown URL 404 without reading its body', async () => {
    const refused = await timedFetch(`${base}/api/nowhere`, { method: 'POST', headers: { ...authed(), ...json }, body: deep });

    expect(refused.status).toBe(404);
    expect(refused.ms).toBeLessThan(500);
  });

  it('answers a method a known path does not take 405 with Allow, without reading its body', async () => {
    const refused = await timedFetch(`${base}/api/projects`, { method: 'PUT', headers: { ...authed(), ...json }, body: deep });

    expect(refused.status).toBe(405);
    expect(refused.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(refused.ms).toBeLessThan(500);
  });

  it('keeps memory flat when one user reads a 6 MB file under 200 query variants: each is a 400', async () => {
    const project = (await (await fetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...json }, body: JSON.stringify({ name: 'big' }) })).json()) as { id: string };
    // 1 MiB of U+0001: about 6 MB once escaped as JSON.
    const created = await fetch(`${base}/api/projects/${project.id}/files`, {
      method: 'POST',
      headers: { ...authed(), ...json },
      body: JSON.stringify({ path: 'big.bin', content: '\u0001'.repeat(1024 * 1024) }),
    });
    expect(created.status).toBe(201);
    const file = (await created.json()) as { id: string };
    const path = `${base}/api/projects/${project.id}/files/${file.id}`;
    expect((await fetch(path, { headers: authed() })).status).toBe(200);
    const before = rssMb(server.pid);

    const statuses = new Set<number>();
    for (let n = 0; n < 200; n++) {
      const res = await fetch(`${path}?n=${n}`, { headers: authed() });
      statuses.add(res.status);
      await res.arrayBuffer();
    }
    const growth = rssMb(server.pid) - before;
    recordFigure('RSS growth across 200 query variants of a 6 MB file', Math.round(growth), 'MB');

    expect([...statuses]).toEqual([400]);
    expect(growth).toBeLessThan(300);
  }, 60_000);

  it.each(['__proto__', 'constructor', 'prototype', 'n'])('refuses ?%s=1 on every route, file reads included', async (key) => {
    for (const route of ['/api/projects', '/api/auth/me', '/debug/pool-status']) {
      const res = await fetch(`${base}${route}?${key}=1`, { headers: authed() });
      expect([route, res.status]).toEqual([route, 400]);
      expect(((await res.json()) as { message: string }).message).toBe(`${key}: is not allowed`);
    }
  });

  it('refuses __proto__, constructor and prototype keys in a body like any unknown field', async () => {
    for (const body of ['{"name":"x","constructor":1}', '{"name":"x","prototype":{}}', '{"name":"x","__proto__":{"admin":true}}']) {
      const res = await fetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...json }, body });
      expect([body, res.status]).toEqual([body, 400]);
    }
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }, '{"name":"x"}', 415],
    ['JSON in another charset', { 'content-type': 'application/json; charset=iso-8859-1' }, '{"name":"x"}', 415],
    ['a gzip body', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync('{"name":"x"}'), 415],
    ['invalid UTF-8', { 'content-type': 'application/json' }, Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 400],
  ])('refuses %s with a clear error, writing nothing', async (_label, headers, body, status) => {
    const before = await projectCount();
    const res = await fetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...headers }, body });

    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ statusCode: status, message: expect.any(String), requestId: expect.any(String) });
    expect(await projectCount()).toBe(before);
  });

  it.each([
    ['1e400', 'is too large to be kept'],
    ['9007199254740993', 'is past 2^53'],
  ])('refuses the number %s in an activity payload instead of storing something else', async (number, message) => {
    const project = (await (await fetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...json }, body: JSON.stringify({ name: 'n' }) })).json()) as { id: string };
    const res = await fetch(`${base}/api/projects/${project.id}/activities`, {
      method: 'POST',
      headers: { ...authed(), ...json },
      body: `{"agent":"a","action":"b","payload":{"n":${number}}}`,
    });

    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(message);
  });

  it.each([
    ['a fullwidth ..', 'a/\uff0e\uff0e/b', "must not contain '.' or '..' segments"],
    ['a segment of only dots and spaces', 'a/. ./b', 'must not contain segments of only dots and spaces'],
    ['a trailing dot', 'src/main.', "must not contain segments ending in '.' or a space"],
    ['a colon', 'notes.txt:stream', "must not contain ':'"],
  ])('refuses a file path with %s', async (_label, path, message) => {
    const project = (await (await fetch(`${base}/api/projects`, { method: 'POST', headers: { ...authed(), ...json }, body: JSON.stringify({ name: 'paths' }) })).json()) as { id: string };
    const res = await fetch(`${base}/api/projects/${project.id}/files`, { method: 'POST', headers: { ...authed(), ...json }, body: JSON.stringify({ path, content: 'x' }) });

    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(message);
  });

  it('takes the bearer scheme in any case, as RFC 9110 allows', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await fetch(`${base}/api/auth/me`, { headers: { authorization: `${scheme} ${token}`, 'x-forwarded-for': client() } });
      expect([scheme, res.status]).toEqual([scheme, 200]);
    }
  });

  it('limits login per account too: rotating addresses do not buy more guesses, and unknown emails answer alike', async () => {
    const guesses = async (email: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await login(email, `guess-${i}`, client())).status);
      return statuses;
    };

    const victim = { email: 'victim@example.com', password: 'victim-password-1' };
    const created = await fetch(`${base}/api/users`, { method: 'POST', headers: { ...authed(), ...json }, body: JSON.stringify(victim) });
    expect(created.status).toBe(201);

    const known = await guesses(victim.email);
    const unknown = await guesses('nobody-here@example.com');

    expect(known).toEqual([401, 401, 401, 429, 429]);
    expect(unknown).toEqual(known);
  });

  it('keeps readiness details from anonymous callers', async () => {
    const anonymous = await fetch(`${base}/health/ready`);
    const admin = await fetch(`${base}/health/ready`, { headers: { authorization: `Bearer ${token}` } });

    expect(((await anonymous.json()) as { details: { database: object } }).details.database).toEqual({ status: 'up' });
    expect(((await admin.json()) as { details: { database: object } }).details.database).toMatchObject({ status: 'up', ping_ms: expect.any(Number) });
  });

  async function projectCount(): Promise<number> {
    const res = await fetch(`${base}/api/projects?limit=100`, { headers: authed() });
    return ((await res.json()) as { items: unknown[] }).items.length;
  }
});
