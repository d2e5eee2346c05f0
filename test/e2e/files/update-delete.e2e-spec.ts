import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ERROR_SHAPE, TIMESTAMP } from '../../support/assertions';
import { aUser, createProject, TestUser } from '../../support/factories';
import { bootApp, TestApp } from '../../support/test-app';
import { addFile, fileRow, fileUrl } from './files.support';

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

  describe('PATCH /api/projects/:id/files/:fileId', () => {
    it('renames a file and replaces its content, recomputing the size and the update time', async () => {
      const project = await createProject(sut.app, alice);
      const created = await addFile(sut.app, alice, project.id, { path: 'a.txt', content: 'abc', language: 'text' });

      const res = await inject({
        method: 'PATCH',
        url: fileUrl(project.id, created.id),
        headers: alice.headers,
        payload: { path: 'b/c.txt', content: 'ünïcødé 📄' },
      });

      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({
        id: created.id,
        path: 'b/c.txt',
        content: 'ünïcødé 📄',
        sizeBytes: 16,
        language: 'text',
        createdAt: created.createdAt,
        updatedAt: TIMESTAMP,
      });
      expect(body.updatedAt > created.updatedAt).toBe(true);
      expect(await fileRow(db, created.id)).toMatchObject({ path: 'b/c.txt', content: 'ünïcødé 📄', size_bytes: 16, octets: 16, language: 'text' });
    });

    it('changes only the language, and null clears it', async () => {
      const project = await createProject(sut.app, alice);
      const created = await addFile(sut.app, alice, project.id, { content: 'x = 1\n', language: 'python' });

      const changed = await inject({ method: 'PATCH', url: fileUrl(project.id, created.id), headers: alice.headers, payload: { language: 'ruby' } });
      const cleared = await inject({ method: 'PATCH', url: fileUrl(project.id, created.id), headers: alice.headers, payload: { language: null } });

      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toMatchObject({ path: created.path, content: 'x = 1\n', sizeBytes: 6, language: 'ruby' });
      expect(cleared.statusCode).toBe(200);
      expect(cleared.json().language).toBeNull();
      expect(await fileRow(db, created.id)).toMatchObject({ path: created.path, content: 'x = 1\n', size_bytes: 6, language: null });
    });

    it('keeps a file at its own path without a conflict', async () => {
      const project = await createProject(sut.app, alice);
      const created = await addFile(sut.app, alice, project.id);

      const res = await inject({ method: 'PATCH', url: fileUrl(project.id, created.id), headers: alice.headers, payload: { path: created.path } });

      expect(res.statusCode).toBe(200);
    });

    it('answers 409 for a path another file of the project has, and changes nothing', async () => {
      const project = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id, { path: 'taken.txt' });
      const file = await addFile(sut.app, alice, project.id, { path: 'free.txt' });
      const before = await fileRow(db, file.id);

      const res = await inject({
        method: 'PATCH',
        url: fileUrl(project.id, file.id),
        headers: alice.headers,
        payload: { path: 'taken.txt', content: 'new' },
      });

      expect(res.statusCode).toBe(409);
      expect(res.json().message).toBe('path: this project already has a file at "taken.txt"');
      expect(await fileRow(db, file.id)).toEqual(before);
    });

    it.each([
      ['an empty body', {}, 'body: give at least one of path, content, language'],
      ['a bad path', { path: 'a/../../etc/passwd' }, "path: must not contain '.' or '..' segments"],
      ['a null path', { path: null }, 'path: must be a string'],
      ['a null content', { content: null }, 'content: must be a string'],
    ])('answers 400 for %s and changes nothing', async (_label, payload, message) => {
      const project = await createProject(sut.app, alice);
      const file = await addFile(sut.app, alice, project.id);
      const before = await fileRow(db, file.id);

      const res = await inject({ method: 'PATCH', url: fileUrl(project.id, file.id), headers: alice.headers, payload });

      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ ...ERROR_SHAPE, statusCode: 400, error: 'Bad Request', message });
      expect(await fileRow(db, file.id)).toEqual(before);
    });

    it('answers 404 for a file that does not exist', async () => {
      const project = await createProject(sut.app, alice);

      const res = await inject({ method: 'PATCH', url: fileUrl(project.id, randomUUID()), headers: alice.headers, payload: { content: 'x' } });

      expect(res.statusCode).toBe(404);
      expect(res.json().message).toBe('File not found');
    });
  });

  describe('DELETE /api/projects/:id/files/:fileId', () => {
    it('deletes the file: 204, the row is gone, and it is not found afterwards', async () => {
      const project = await createProject(sut.app, alice);
      const file = await addFile(sut.app, alice, project.id);
      const kept = await addFile(sut.app, alice, project.id);

      const res = await inject({ method: 'DELETE', url: fileUrl(project.id, file.id), headers: alice.headers });

      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(await fileRow(db, file.id)).toBeUndefined();
      expect(await fileRow(db, kept.id)).toBeDefined();
      expect((await inject({ method: 'GET', url: fileUrl(project.id, file.id), headers: alice.headers })).statusCode).toBe(404);
      expect((await inject({ method: 'DELETE', url: fileUrl(project.id, file.id), headers: alice.headers })).statusCode).toBe(404);
    });

    it("goes with its project: deleting the project deletes the project's files", async () => {
      const project = await createProject(sut.app, alice);
      const other = await createProject(sut.app, alice);
      await addFile(sut.app, alice, project.id);
      await addFile(sut.app, alice, project.id);
      const kept = await addFile(sut.app, alice, other.id);

      const res = await inject({ method: 'DELETE', url: `/api/projects/${project.id}`, headers: alice.headers });

      expect(res.statusCode).toBe(204);
      const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM files WHERE project_id = $1`, [project.id]);
      expect(count).toBe(0);
      expect(await fileRow(db, kept.id)).toBeDefined();
    });
  });
});
