import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from '../../tools/bench/scenarios';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';

const ROOT = join(__dirname, '..', '..');
const RUN = join(ROOT, 'dist-dev', 'tools', 'bench', 'run.js');
const DOCS = join(ROOT, 'docs', 'BENCHMARKS.md');

/**
 * `npm run bench -- --smoke` end to end on a throw-away database: it must finish, produce a row
 * for every scenario and its JSON file, and leave docs/BENCHMARKS.md alone. Timings are not
 * asserted: this machine is shared and the runs last about a second.
 */
describe('bench --smoke', () => {
  let databaseUrl: string;
  let outDir: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  });

  afterAll(async () => {
    rmSync(outDir, { recursive: true, force: true });
    await dropTestDatabase(databaseUrl);
  });

  it('runs every scenario and writes the results file', async () => {
    const docsBefore = existsSync(DOCS) ? statSync(DOCS).mtimeMs : undefined;
    const child = spawn(process.execPath, [RUN, '--smoke', '--out', outDir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`bench --smoke exited ${code}:\n${output.slice(-6000)}`);

    const files = readdirSync(outDir).filter((f) => f.endsWith('-smoke.json'));
    expect(files).toHaveLength(1);
    const result = JSON.parse(readFileSync(join(outDir, files[0]), 'utf8'));
    expect(result.mode).toBe('smoke');
    const scenarios = new Set(result.rows.map((r: { scenario: string }) => r.scenario));
    expect([...scenarios].sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
    for (const row of result.rows.filter((r: { kind: string }) => r.kind !== 'check')) {
      expect(row.reqPerSec).toBeGreaterThan(0);
    }
    for (const row of result.rows.filter((r: { scenario: string }) => r.scenario === 'cached-get')) {
      expect(row.cpuUs).toBeGreaterThan(0);
    }
    expect(output).toMatch(/rate limits raised by configuration/);
    expect(output).toMatch(/LOG_LEVEL=warn/);
    expect(existsSync(DOCS) ? statSync(DOCS).mtimeMs : undefined).toBe(docsBefore);
  }, 200_000);
});
