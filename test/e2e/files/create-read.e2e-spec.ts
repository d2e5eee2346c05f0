import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ERROR_SHAPE, TIMESTAMP } from '../../support/assertions';
import { aFile, aUser, createProject, tableCounts, TestUser } from '../../support/factories';
import { bootApp, TestApp } from '../../support/test-app';
import { addFile, fileRow, filesUrl, fileUrl } from './files.support';

describe('files API (real PostgreSQL)', () => {
  let sut: TestApp;
  let db: DataSource;
  let alice: TestUser;

  beforeAll(async () => {
    sut = await bootApp();
    db = sut.app.get(DataSource);
    alice = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

  describe('POST /api/projects/:id/files', () => {
    it('creates a file, answers it with its content and stores it in the project', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({
        method: 'POST',
        url: filesUrl(project.id),
        headers: alice.headers,
        payload: { path: 'src/main.ts', content: 'console.log(1);\n', language: 'typescript' },
      });

      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toEqual({
        id: expect.any(String),
        path: 'src/main.ts',
        content: 'console.log(1);\n',
        sizeBytes: 16,
        language: 'typescript',
        createdAt: TIMESTAMP,
        updatedAt: TIMESTAMP,
      });
      expect(await fileRow(db, body.id)).toMatchObject({
        project_id: project.id,
        path: 'src/main.ts',
        content: 'console.log(1);\n',
        size_bytes: 16,
        language: 'typescript',
      });
    });

    it('counts the size in UTF-8 bytes, not characters', async () => {
      const project = await createProject(sut.app, alice);
      const content = 'héllo wörld — 世界 📄\n';

      const body = await addFile(sut.app, alice, project.id, { content, language: undefined });

      expect(content.length).toBe(20);
      expect(body.sizeBytes).toBe(30);
      expect(body.content).toBe(content);
      expect(body.language).toBeNull();
      expect(await fileRow(db, body.id)).toMatchObject({ content, size_bytes: 30, octets: 30, language: null });
    });

    it('answers 409 for a path the project already has, and writes nothing', async () => {
      const project = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id, { path: 'README.md' });
      const before = await tableCounts(sut.app);

      const res = await inject({ method: 'POST', url: filesUrl(project.id), headers: alice.headers, payload: aFile({ path: 'README.md' }) });

      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 409, error: 'Conflict', message: 'path: this project already has a file at "README.md"' });
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it('compares paths exactly: another case or another project is not a duplicate', async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id, { path: 'README.md' });

      await addFile(sut.app, alice, project.id, { path: 'readme.md' });
      await addFile(sut.app, alice, other.id, { path: 'README.md' });

      const rows = await db.query(`SELECT project_id, path FROM files WHERE project_id = ANY($1::uuid[]) ORDER BY project_id, path`, [
        [project.id, other.id],
      ]);
      expect(rows).toEqual(
        expect.arrayContaining([
          { project_id: project.id, path: 'README.md' },
          { project_id: project.id, path: 'readme.md' },
          { project_id: other.id, path: 'README.md' },
        ]),
      );
      expect(rows).toHaveLength(3);
    });

    it.each([
      ['absolute', '/abs'],
      ['leading ..', '../x'],
      ['inner ..', 'a/../b'],
      ['backslash ..', 'a\\..\\b'],
      ['NUL', 'a\u0000b'],
      ['drive letter', 'C:\\x'],
      ['empty', ''],
      ['empty segment', 'a//b'],
      ['1025 characters', 'x'.repeat(1025)],
      ['not a string', 42],
      ['missing', undefined],
    ])('answers 400 naming path for a bad path (%s) and writes nothing', async (_label, path) => {
      const project = await createProject(sut.app, alice);
      const before = await tableCounts(sut.app);

      const res = await inject({ method: 'POST', url: filesUrl(project.id), headers: alice.headers, payload: aFile({ path }) });

      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 400, error: 'Bad Request' });
      expect(res.json().message).toMatch(/^path: /);
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it.each([
      ['content with NUL', { content: 'a\u0000b' }, /^content: contains a NUL character$/],
      ['content not a string', { content: 7 }, /^content: must be a string$/],
      ['content missing', { content: undefined }, /^content: is required$/],
      ['language too long', { language: 'x'.repeat(65) }, /^language: must be a string of 1 to 64 characters$/],
      ['language with a control character', { language: 'ty\npescript' }, /^language: must not contain control characters/],
      ['an unknown field', { owner: 'me' }, /^owner: is not allowed$/],
    ])('answers 400 for %s and writes nothing', async (_label, overrides, message) => {
      const project = await createProject(sut.app, alice);
      const before = await tableCounts(sut.app);

      const res = await inject({ method: 'POST', url: filesUrl(project.id), headers: alice.headers, payload: aFile(overrides) });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
      expect(await tableCounts(sut.app)).toEqual(before);
    });

    it('answers 400 naming id for a project id that is not a UUID', async () => {
      const res = await inject({ method: 'POST', url: filesUrl('not-a-uuid'), headers: alice.headers, payload: aFile() });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe('id: must be a UUID');
    });

    it('answers 404 for a project that does not exist', async () => {
      const res = await inject({ method: 'POST', url: filesUrl(randomUUID()), headers: alice.headers, payload: aFile() });

      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 404, error: 'Not Found', message: 'Project not found' });
    });

    it('answers 401 without a token', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({ method: 'POST', url: filesUrl(project.id), payload: aFile() });

      expect(res.statusCode).toBe(401);
    });
  });

  describe('GET /api/projects/:id/files/:fileId', () => {
    it('answers the file with its content', async () => {
      const project = await createProject(sut.app, alice);
      const created = await addFile(sut.app, alice, project.id, { path: 'docs/guide.md', content: '# Guide\n', language: 'markdown' });

      const res = await inject({ method: 'GET', url: fileUrl(project.id, created.id), headers: alice.headers });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(created);
    });

    it('answers 404 for a file of another project of the same owner', async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      const file = await addFile(sut.app, alice, other.id);

      const res = await inject({ method: 'GET', url: fileUrl(project.id, file.id), headers: alice.headers });

      expect(res.statusCode).toBe(404);
      expect(res.json().message).toBe('File not found');
    });

    it('answers 400 naming fileId for a file id that is not a UUID', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({ method: 'GET', url: fileUrl(project.id, '123'), headers: alice.headers });

      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe('fileId: must be a UUID');
    });
  });

  describe('with FILE_MAX_BYTES=100', () => {
    let small: TestApp;
    let carol: TestUser;

    beforeAll(async () => {
      small = await bootApp({ FILE_MAX_BYTES: '100' });
      carol = await aUser(small.app);
    });

    afterAll(async () => {
      await small.close();
    });

    it('accepts exactly 100 bytes', async () => {
      const project = await createProject(small.app, carol);

      const res = await small.app.inject({ method: 'POST', url: filesUrl(project.id), headers: carol.headers, payload: aFile({ content: 'x'.repeat(100) }) });

      expect(res.statusCode).toBe(201);
      expect(res.json().sizeBytes).toBe(100);
    });

    it.each([
      ['101 ASCII bytes', 'x'.repeat(101), 101],
      // 34 characters but 102 bytes: the limit is on UTF-8 bytes.
      ['34 three-byte characters', '世'.repeat(34), 102],
    ])('answers 413 for %s and writes nothing', async (_label, content, bytes) => {
      const project = await createProject(small.app, carol);
      const before = await tableCounts(small.app);

      const res = await small.app.inject({ method: 'POST', url: filesUrl(project.id), headers: carol.headers, payload: aFile({ content }) });

      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({
        ...ERROR_SHAPE,
        statusCode: 413,
        error: 'Payload Too Large',
        message: `content: is ${bytes} bytes of UTF-8, over the limit of 100 bytes`,
      });
      expect(await tableCounts(small.app)).toEqual(before);
    });

    it('answers 413 for an update with too much content and changes nothing', async () => {
      const project = await createProject(small.app, carol);
      const created = (await small.app.inject({ method: 'POST', url: filesUrl(project.id), headers: carol.headers, payload: aFile({ content: 'small' }) })).json();
      const [before] = await small.app.get(DataSource).query('SELECT path, content, size_bytes, updated_at::text FROM files WHERE id = $1', [created.id]);

      const res = await small.app.inject({
        method: 'PATCH',
        url: fileUrl(project.id, created.id),
        headers: carol.headers,
        payload: { path: 'renamed.txt', content: '📄'.repeat(26) },
      });

      expect(res.statusCode).toBe(413);
      expect(res.json().message).toBe('content: is 104 bytes of UTF-8, over the limit of 100 bytes');
      const [after] = await small.app.get(DataSource).query('SELECT path, content, size_bytes, updated_at::text FROM files WHERE id = $1', [created.id]);
      expect(after).toEqual(before);
    });
  });
});
