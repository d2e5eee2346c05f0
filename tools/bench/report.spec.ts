import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchResult, NOTES_END, NOTES_START, renderDocs } from './report';

function aResult(date: string, node: string, mode: BenchResult['mode'] = 'full'): BenchResult {
  return {
    version: 1,
    date,
    node,
    mode,
    command: 'npm run bench',
    scenarios: ['cached-get'],
    plan: { durationS: 10, rounds: 3, warmupS: 2 },
    machine: { nproc: 2, cpu: 'cpu', memTotalMb: 1024, node, postgres: '18', database: 'embedded', kernel: '6', loadAvgStart: [0, 0, 0] },
    serverEnv: {},
    serverKinds: { cached: {} },
    setup: {},
    rows: [],
    totalSeconds: 1,
    notes: [],
  };
}

describe('renderDocs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'bench-report-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (r: BenchResult) => writeFileSync(join(dir, `${r.date.replace(/:/g, '-')}-${r.mode}.json`), JSON.stringify(r));

  it('keeps the latest full run of each other Node major under its own title', () => {
    write(aResult('2026-11-01T00:00:00.000Z', 'v24.11.0'));
    write(aResult('2026-11-02T00:00:00.000Z', 'v20.20.2'));
    write(aResult('2026-11-03T00:00:00.000Z', 'v24.11.1'));
    write(aResult('2026-11-04T00:00:00.000Z', 'v20.20.2', 'quick'));

    const sut = renderDocs(dir, undefined);

    expect(sut).toContain('## Latest full run (Node v24.11.1): 2026-11-03T00:00:00.000Z');
    expect(sut).toContain('## Latest full run on Node v20: 2026-11-02T00:00:00.000Z');
    expect(sut).not.toContain('2026-11-01T00:00:00.000Z');
  });

  it('keeps the hand-written notes', () => {
    write(aResult('2026-11-03T00:00:00.000Z', 'v24.11.1'));
    const sut = renderDocs(dir, `old\n${NOTES_START}\nmy note\n${NOTES_END}\n`);
    expect(sut).toContain(`${NOTES_START}\nmy note\n${NOTES_END}`);
    expect(sut).not.toContain('Node v20');
  });
});
