import { DataSource } from 'typeorm';
import { aProject, aUser, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

describe('projects API (real PostgreSQL)', () => {
  let sut: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    sut = await bootApp();
    alice = await aUser(sut.app);
  });

  afterAll(async () => {
    await sut.close();
  });

  const inject = (...args: Parameters<TestApp['app']['inject']>) => sut.app.inject(...args);

  it('creates a project and stores it for its owner', async () => {
    const res = await inject({ method: 'POST', url: '/api/projects', headers: alice.headers, payload: aProject({ name: 'Alpha', status: 'draft' }) });

    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      name: 'Alpha',
      description: 'made by a test',
      status: 'draft',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      updatedAt: expect.any(String),
    });
    const rows = await sut.app.get(DataSource).query('SELECT user_id, name, status FROM projects WHERE id = $1', [body.id]);
    expect(rows).toEqual([{ user_id: alice.id, name: 'Alpha', status: 'draft' }]);
  });
});
