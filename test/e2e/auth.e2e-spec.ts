import { Writable } from 'node:stream';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { hashToken } from '../../src/auth/token.service';
import { aUser, TEST_PASSWORD, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

describe('auth and users (real PostgreSQL)', () => {
  let sut: TestApp;
  let admin: TestUser;
  let alice: TestUser;

  beforeAll(async () => {
    sut = await bootApp({ ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root-password-1' });
    admin = await aUser(sut.app, { role: 'admin' });
    alice = await aUser(sut.app, { email: 'Alice@Example.com' });
  });

  afterAll(async () => {
    await sut.close();
  });

  const login = (email: string, password: string) =>
    sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });

  describe('login', () => {
    it('exchanges email and password for a token, case-insensitively on the email', async () => {
      const res = await login('alice@example.com', TEST_PASSWORD);

      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toEqual({ token: expect.stringMatching(/^pbt_[A-Za-z0-9_-]{43}$/), user: { id: alice.id, email: 'Alice@Example.com', role: 'user' } });
      const me = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${body.token}` } });
      expect(me.json()).toEqual({ id: alice.id, email: 'Alice@Example.com', role: 'user' });
    });

    it('stores only the SHA-256 of a token', async () => {
      const { token } = (await login('alice@example.com', TEST_PASSWORD)).json();
      const rows = await sut.app.get(DataSource).query('SELECT token_hash FROM api_tokens WHERE token_hash = $1', [hashToken(token)]);
      const leaked = await sut.app.get(DataSource).query(`SELECT 1 FROM api_tokens WHERE token_hash LIKE '%' || $1 || '%'`, [token.slice(4, 20)]);

      expect(rows).toHaveLength(1);
      expect(leaked).toHaveLength(0);
    });

    it('answers a wrong password and an unknown email identically with 401', async () => {
      const wrongPassword = await login('alice@example.com', 'not the password');
      const unknownEmail = await login('nobody@example.com', 'not the password');

      expect(wrongPassword.statusCode).toBe(401);
      expect(unknownEmail.statusCode).toBe(401);
      expect(wrongPassword.json().message).toBe('Invalid email or password');
      expect(unknownEmail.json().message).toBe(wrongPassword.json().message);
    });

    it('creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD', async () => {
      const res = await login('root@example.com', 'root-password-1');

      expect(res.statusCode).toBe(201);
      expect(res.json().user.role).toBe('admin');
    });
  });

  describe('tokens', () => {
    it('rejects anonymous, malformed and unknown tokens with 401', async () => {
      const cases = [undefined, 'Basic abc', 'Bearer', 'Bearer has spaces', `Bearer ${'x'.repeat(200)}`, 'Bearer pbt_unknown'];
      for (const authorization of cases) {
        const res = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: authorization ? { authorization } : {} });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', requestId: expect.any(String) });
      }
    });

    it('resolves a token without a database round trip once it is cached', async () => {
      const user = await aUser(sut.app);
      await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
      const before = sut.acquisitions();

      const res = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });

      expect(res.statusCode).toBe(200);
      expect(sut.acquisitions()).toBe(before);
    });

    it('logout revokes the presented token at once, even though it was cached', async () => {
      const { token } = (await login('alice@example.com', TEST_PASSWORD)).json();
      const headers = { authorization: `Bearer ${token}` };
      expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers })).statusCode).toBe(200);

      const out = await sut.app.inject({ method: 'POST', url: '/api/auth/logout', headers });

      expect(out.statusCode).toBe(204);
      expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers })).statusCode).toBe(401);
      const [row] = await sut.app.get(DataSource).query('SELECT revoked_at FROM api_tokens WHERE token_hash = $1', [hashToken(token)]);
      expect(row.revoked_at).not.toBeNull();
    });
  });

  describe('admin user management', () => {
    it('creates users; the email is unique whatever its case', async () => {
      const res = await sut.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: admin.headers,
        payload: { email: 'New.Dev@example.com', password: 'long enough', role: 'user' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ id: expect.any(String), email: 'New.Dev@example.com', role: 'user', createdAt: expect.any(String) });
      expect((await login('new.dev@example.com', 'long enough')).statusCode).toBe(201);

      const again = await sut.app.inject({ method: 'POST', url: '/api/users', headers: admin.headers, payload: { email: 'new.dev@EXAMPLE.com', password: 'long enough' } });
      expect(again.statusCode).toBe(409);
    });

    it('lists users newest first with keyset pages', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = (await sut.app.inject({ method: 'GET', url, headers: admin.headers })).json();
        seen.push(...page.items.map((u: { id: string }) => u.id));
        cursor = page.nextCursor;
      } while (cursor);

      const [{ count }] = await sut.app.get(DataSource).query('SELECT count(*)::int AS count FROM users');
      expect(seen).toHaveLength(count);
      expect(new Set(seen).size).toBe(count);
    });

    it('issues a token for a user, shown once and usable', async () => {
      const res = await sut.app.inject({ method: 'POST', url: `/api/users/${alice.id}/tokens`, headers: admin.headers });

      expect(res.statusCode).toBe(201);
      const me = await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${res.json().token}` } });
      expect(me.json().id).toBe(alice.id);
    });

    it('answers 404 for a token for an unknown user', async () => {
      const res = await sut.app.inject({ method: 'POST', url: '/api/users/00000000-0000-4000-8000-000000000000/tokens', headers: admin.headers });

      expect(res.statusCode).toBe(404);
    });

    it('forbids non-admins (403) and anonymous callers (401)', async () => {
      const asUser = await sut.app.inject({ method: 'GET', url: '/api/users', headers: alice.headers });
      const anonymous = await sut.app.inject({ method: 'GET', url: '/api/users' });

      expect(asUser.statusCode).toBe(403);
      expect(anonymous.statusCode).toBe(401);
    });
  });
});

describe('first start without ADMIN_PASSWORD', () => {
  it('generates an admin password and prints it once in the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) }));
    const first = await bootApp({ ADMIN_EMAIL: 'boot@example.com' }, { logger });
    try {
      const line = lines.find((l) => l.includes('created the first admin'));
      const password = /password (\S+)/.exec(JSON.parse(line!).msg)![1];
      const res = await first.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'boot@example.com', password } });
      expect(res.statusCode).toBe(201);

      lines.length = 0;
      const second = await bootApp({ ADMIN_EMAIL: 'boot@example.com' }, { logger, url: first.url });
      await second.close();
      expect(lines.some((l) => l.includes('created the first admin'))).toBe(false);
      const admins = await first.app.get(DataSource).query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
      expect(admins[0].n).toBe(1);
    } finally {
      await first.close();
    }
  });
});
