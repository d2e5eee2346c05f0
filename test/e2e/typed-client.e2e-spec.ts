import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { runSample } from '../../clients/typescript/sample/sample';
import { OPENAPI_DOCUMENT } from '../support/contract';
import { aUser, TEST_PASSWORD } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const CLIENT = join(ROOT, 'clients/typescript');
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

/** Casts and escapes a typed client must not need: `as`, `<T>x`, `x!`, `any`, `@ts-` comments. */
function escapesIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    const at = () => `${file.slice(CLIENT.length + 1)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText().slice(0, 60)}`;
    if (ts.isAsExpression(node) && node.type.getText() !== 'const') found.push(`cast ${at()}`);
    if (ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node)) found.push(`cast ${at()}`);
    if (node.kind === ts.SyntaxKind.AnyKeyword) found.push(`any ${at()}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (/@ts-(ignore|expect-error|nocheck)/.test(text)) found.push(`@ts- comment in ${file}`);
  return found;
}

describe('the typed client in clients/typescript (openapi-typescript + openapi-fetch)', () => {
  it('its types are what openapi-typescript generates from docs/openapi.json (regenerate with npm run openapi)', async () => {
    // Outside the repository, so that openapi-typescript does not read redocly.yaml's output setting.
    const dir = mkdtempSync(join(tmpdir(), 'openapi-ts-'));
    try {
      await run(bin('openapi-typescript'), [OPENAPI_DOCUMENT, '--default-non-nullable', 'false', '--output', join(dir, 'schema.ts')], { cwd: dir });
      expect(readFileSync(join(dir, 'schema.ts'), 'utf8')).toBe(readFileSync(join(CLIENT, 'src/schema.ts'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('compiles with the sample under strict, and the sample needs no cast', async () => {
    const config = JSON.parse(readFileSync(join(CLIENT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { strict?: boolean } };
    expect(config.compilerOptions.strict).toBe(true);

    await expect(run(bin('tsc'), ['-p', join(CLIENT, 'tsconfig.json')], { cwd: ROOT })).resolves.toBeDefined();
    expect([join(CLIENT, 'sample/sample.ts'), join(CLIENT, 'src/index.ts')].flatMap(escapesIn)).toEqual([]);
  }, 120_000);

  describe('the sample against a real server (every answer checked against the document)', () => {
    let sut: TestApp;
    let base: string;

    beforeAll(async () => {
      sut = await bootApp();
      await sut.app.listen({ port: 0, host: '127.0.0.1' });
      base = await sut.app.getUrl();
    });

    afterAll(async () => {
      await sut.close();
    });

    it('logs in, creates a project, a file and an activity, pages through lists and reads the admin metrics', async () => {
      const admin = await aUser(sut.app, { role: 'admin' });

      const outcome = await runSample(base.replace('[::1]', '127.0.0.1'), admin.email, TEST_PASSWORD);

      expect(outcome.user).toEqual({ id: admin.id, email: admin.email, role: 'admin' });
      expect(outcome.project).toMatchObject({ name: 'Checkout redesign', description: 'The new checkout, step by step', status: 'active' });
      expect(outcome.file).toMatchObject({ path: 'src/checkout.ts', language: 'typescript', sizeBytes: 24 });
      expect(outcome.activity).toMatchObject({ projectId: outcome.project.id, payload: { file: 'src/checkout.ts', tokens: 1200, tags: ['ui'] } });
      expect(outcome.projects.map((p) => p.id)).toEqual([outcome.project.id]);
      expect(outcome.activities.map((a) => a.id)).toEqual([outcome.activity.id]);
      expect(outcome.metrics.performance_metrics['POST /api/projects']?.count).toBeGreaterThanOrEqual(1);
    });
  });
});
