import { STATUS_CODES } from 'node:http';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { dataDigest, INTERNALS } from '../support/assertions';
import { aUser, createProject, tableCounts } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';
import { ACTIVITY, BODY_LIMIT_BYTES, Ctx, FILE_MAX_BYTES, Inject, q, Req, ROWS } from './bad-input.rows';

describe('bad input (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  const ctx = {} as Ctx;

  beforeAll(async () => {
    sut = await bootApp({ FILE_MAX_BYTES: String(FILE_MAX_BYTES), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
    db = sut.app.get(DataSource);
    ctx.owner = await aUser(sut.app);
    ctx.admin = await aUser(sut.app, { role: 'admin' });

    // Two of everything, so every list has a real nextCursor to edit.
    ctx.projectId = (await createProject(sut.app, ctx.owner)).id;
    await createProject(sut.app, ctx.owner);
    for (const path of ['a.txt', 'b.txt']) {
      const res = await send({ method: 'POST', url: `/api/projects/${ctx.projectId}/files`, payload: { path, content: 'x' } });
      expect(res.statusCode).toBe(201);
      ctx.fileId ??= res.json().id;
    }
    const recorded = await send({ method: 'POST', url: `/api/projects/${ctx.projectId}/activities/batch`, payload: { items: [ACTIVITY, ACTIVITY] } });
    expect(recorded.statusCode).toBe(201);
    const cursorOf = async (url: string, as: Req['as'] = 'owner') => {
      const res = await send({ method: 'GET', url: `${url}?limit=1`, as });
      expect(res.json().nextCursor).toEqual(expect.any(String));
      return res.json().nextCursor as string;
    };
    ctx.cursors = {
      projects: await cursorOf('/api/projects'),
      users: await cursorOf('/api/users', 'admin'),
      files: await cursorOf(`/api/projects/${ctx.projectId}/files`),
      activities: await cursorOf(`/api/projects/${ctx.projectId}/activities`),
    };
  });

  afterAll(async () => {
    await sut.close();
  });

  function send(req: Req) {
    const headers: Record<string, string> = {};
    if (req.as !== 'nobody') Object.assign(headers, (req.as === 'admin' ? ctx.admin : ctx.owner).headers);
    if (req.contentType) headers['content-type'] = req.contentType;
    return sut.app.inject({ method: req.method, url: req.url, payload: req.payload, headers } as Inject);
  }

  const digest = async () => JSON.stringify(await dataDigest(db));

  describe(`${ROWS.length} malformed requests, each a 4xx in the one error shape, none changing the database`, () => {
    let countsBefore: string;
    let digestBefore: string;

    beforeAll(async () => {
      countsBefore = JSON.stringify(await tableCounts(sut.app));
      digestBefore = await digest();
    });

    it('has at least 60 rows, with unique labels', () => {
      expect(ROWS.length).toBeGreaterThanOrEqual(60);
      expect(new Set(ROWS.map(([label]) => label)).size).toBe(ROWS.length);
    });

    // Objects, not tuples: Jest would hand a row without a message a `done` callback in its place.
    it.each(ROWS.map(([label, build, status, message]) => ({ label, build, status, message })))('$label -> $status', async ({ build, status, message }) => {
      const res = await send(build(ctx));

      expect({ status: res.statusCode, body: res.body.slice(0, 300) }).toEqual({ status, body: expect.any(String) });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
      expect(body).toEqual({ statusCode: status, error: STATUS_CODES[status], message: expect.any(String), requestId: res.headers['x-request-id'] });
      expect(body.message.length).toBeGreaterThan(0);
      expect(body.message).not.toMatch(INTERNALS);
      // Every 400 names the field it is about first, in one format: `field: what is wrong`.
      if (status === 400) expect(body.message).toMatch(/^[\w.]+: \S/);
      if (message) expect(body.message).toMatch(message);
    });

    // Declared after the table, so Jest runs it once every row has run.
    it('left every table exactly as it was: same counts, same rows', async () => {
      expect(JSON.stringify(await tableCounts(sut.app))).toBe(countsBefore);
      expect(await digest()).toBe(digestBefore);
    });
  });

  describe('SQL in query parameters that are not validated', () => {
    it.each([
      ['agent filter', (c: Ctx) => `/api/projects/${c.projectId}/activities?agent=${q("x' OR '1'='1")}`],
      ['action filter', (c: Ctx) => `/api/projects/${c.projectId}/activities?action=${q("x'; DELETE FROM agent_activities; --")}`],
      ['file prefix', (c: Ctx) => `/api/projects/${c.projectId}/files?prefix=${q("'; DROP TABLE files; --")}`],
      ['file prefix with LIKE wildcards', (c: Ctx) => `/api/projects/${c.projectId}/files?prefix=${q('%')}`],
    ])('%s: taken literally, matches nothing and changes nothing', async (_label, url) => {
      const before = await digest();

      const res = await send({ method: 'GET', url: url(ctx) });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ items: [], nextCursor: null });
      expect(await digest()).toBe(before);
    });
  });

  describe('BODY_LIMIT_BYTES and FILE_MAX_BYTES', () => {
    it('refuses a configuration whose body limit is under 6 x FILE_MAX_BYTES + 65536', () => {
      expect(() => AppConfig.fromEnv({ FILE_MAX_BYTES: String(FILE_MAX_BYTES), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES - 1) })).toThrow(
        /BODY_LIMIT_BYTES must be at least 6 x FILE_MAX_BYTES \+ 65536/,
      );
      expect(sut.config.bodyLimitBytes).toBe(6 * sut.config.fileMaxBytes + 65_536);
    });

    it('accepts content of exactly FILE_MAX_BYTES in a body at the smallest limit the configuration allows', async () => {
      const res = await send({ method: 'POST', url: `/api/projects/${ctx.projectId}/files`, payload: { path: 'exact.txt', content: 'x'.repeat(FILE_MAX_BYTES) } });

      expect(res.statusCode).toBe(201);
      expect(res.json().sizeBytes).toBe(FILE_MAX_BYTES);
    });

    // The constraint exists so that a file at its limit fits in a body whatever JSON escaping adds:
    // a quote doubles, a control character becomes six bytes (\u0001).
    it('accepts a file of exactly FILE_MAX_BYTES whose JSON escaping grows it 6x, at the smallest allowed body limit', async () => {
      const fileMax = 128 * 1024;
      const big = await bootApp({ FILE_MAX_BYTES: String(fileMax), BODY_LIMIT_BYTES: String(6 * fileMax + 65_536) });
      try {
        const owner = await aUser(big.app);
        const target = await createProject(big.app, owner);

        const res = await big.app.inject({
          method: 'POST',
          url: `/api/projects/${target.id}/files`,
          headers: owner.headers,
          payload: { path: 'controls.bin', content: '\u0001'.repeat(fileMax) },
        });

        expect({ status: res.statusCode, message: res.json().message }).toEqual({ status: 201, message: undefined });
      } finally {
        await big.close();
      }
    });
  });
});
