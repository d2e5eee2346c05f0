import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { runSample } from '../../clients/typescript/sample/sample';
import { OPENAPI_DOCUMENT, uncheckedFetch } from '../support/contract';
import { aUser, createProject, TEST_PASSWORD } from '../support/factories';
import { freePort } from '../support/server-process';
import { bootApp, TestApp } from '../support/test-app';

const PRISM = join(resolve(__dirname, '../..'), 'node_modules/.bin/prism');

/**
 * Stoplight Prism, the contract proxy a frontend team puts between its app and the API, in
 * `--errors` mode: a request the document does not allow is refused with 422 before it reaches the
 * server, and an answer the document does not describe becomes a 500 naming the violation.
 */
describe('through Prism, the OpenAPI contract proxy (prism proxy --errors)', () => {
  let sut: TestApp;
  let prism: ChildProcess;
  let base: string;
  const output: string[] = [];

  beforeAll(async () => {
    sut = await bootApp();
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    const upstream = new URL(await sut.app.getUrl());
    const port = await freePort();
    prism = spawn(PRISM, ['proxy', OPENAPI_DOCUMENT, `http://127.0.0.1:${upstream.port}`, '--port', String(port), '--errors', '--cors', 'false'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
    prism.stdout!.on('data', collect);
    prism.stderr!.on('data', collect);
    const deadline = Date.now() + 60_000;
    while (!output.some((line) => line.includes('Prism is listening'))) {
      if (prism.exitCode !== null || Date.now() > deadline) throw new Error(`Prism did not start:\n${output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    base = `http://127.0.0.1:${port}`;
  }, 90_000);

  afterAll(async () => {
    prism?.kill();
    await sut?.close();
  });

  /** Prism's own log of what it found wrong, for a failing assertion's message. */
  const violations = () => output.filter((line) => /violation|error/i.test(line)).join('\n');

  it('passes the typed client sample: every request and answer of the flow conforms', async () => {
    const admin = await aUser(sut.app, { role: 'admin' });

    await expect(runSample(base, admin.email, TEST_PASSWORD).then(() => 'conforms', (err: Error) => `${err.message}\n${violations()}`)).resolves.toBe('conforms');
  }, 60_000);

  it('passes a 304 with no body and no content type', async () => {
    const user = await aUser(sut.app);
    const project = await createProject(sut.app, user);
    const url = `${base}/api/projects/${project.id}`;
    const first = await uncheckedFetch(url, { headers: user.headers });
    expect(first.status).toBe(200);

    const again = await uncheckedFetch(url, { headers: { ...user.headers, 'if-none-match': first.headers.get('etag')! } });

    expect({ status: again.status, type: again.headers.get('content-type'), body: await again.text() }).toEqual({ status: 304, type: null, body: '' });
  });

  it('refuses, with 422 before the server sees it, what the document forbids: a description that is not a string, an unknown status', async () => {
    const user = await aUser(sut.app);
    const post = (body: unknown) =>
      uncheckedFetch(`${base}/api/projects`, { method: 'POST', headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post({ name: 'n', description: {} })).status).toBe(422);
    expect((await post({ name: 'n', status: 'deleted' })).status).toBe(422);
    expect((await post({ name: 'n', description: 'a string' })).status).toBe(201);
  });
});
