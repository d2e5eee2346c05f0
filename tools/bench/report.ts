import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileSummary } from './profile';
import type { Mode, Row } from './scenarios';
import { round } from '../shared/stats';

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly memTotalMb: number;
  readonly node: string;
  readonly postgres: string;
  readonly database: string;
  readonly kernel: string;
  readonly loadAvgStart: number[];
  readonly loadAvgEnd?: number[];
  readonly openFiles?: { soft: number; hard: number };
}

export interface BenchResult {
  readonly version: 1;
  readonly date: string;
  /** process.version of the bench and of every server it started (also in machine.node). */
  readonly node?: string;
  readonly mode: Mode | 'partial' | 'profile';
  readonly command: string;
  readonly scenarios: string[];
  readonly plan: Record<string, unknown>;
  readonly machine: Machine;
  /** The environment every app server got on top of its scenario's own settings. */
  readonly serverEnv: Record<string, string>;
  /** The node flags of `npm start`, which every app server ran with (absent in older results). */
  readonly nodeArgs?: readonly string[];
  readonly serverKinds: Record<string, Record<string, string>>;
  readonly setup: Record<string, number>;
  readonly rows: Row[];
  readonly totalSeconds: number;
  readonly profile?: ProfileSummary;
  readonly referenceProfile?: ProfileSummary;
  readonly notes: string[];
}

const fmt = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '-' : String(round(v, digits)));
const int = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : String(Math.round(v)));

export const COLUMNS = ['scenario', 'measured', 'conns', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'non-2xx', 'CPU µs/resp', 'ratio', 'target', 'met'];

export function rowCells(row: Row): string[] {
  return [
    row.scenario,
    row.label,
    row.connections === undefined ? '-' : String(row.connections),
    int(row.reqPerSec),
    fmt(row.p50),
    fmt(row.p95),
    fmt(row.p99),
    row.errors === undefined ? '-' : String(row.errors),
    row.non2xx === undefined ? '-' : String(row.non2xx),
    fmt(row.cpuUs, 1),
    row.ratio === undefined ? '-' : `${fmt(row.ratio)}x ${row.ratioOf ? `vs ${row.ratioOf}` : ''}`.trim(),
    row.target ?? (row.kind === 'reference' ? '(reference)' : row.kind === 'baseline' ? '(baseline)' : '-'),
    row.met === undefined ? '' : row.met ? 'met' : 'NOT met',
  ];
}

/** The table for a terminal: fixed-width columns. */
export function textTable(rows: readonly Row[]): string {
  const lines = [COLUMNS, ...rows.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const render = (l: string[]) => l.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [render(lines[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(render)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map((_, i) => (i >= 2 && i <= 9 ? '---:' : '---')).join('|')}|`];
  for (const row of rows) {
    const cells = rowCells(row).map(esc);
    cells[12] = cells[12] === 'NOT met' ? '**NOT met**' : cells[12];
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

export function rowNotes(rows: readonly Row[]): string[] {
  return rows.filter((r) => r.notes).map((r) => `${r.scenario} / ${r.label}: ${r.notes}`);
}

/** The newest result file of a mode in `dir` (names start with the ISO date, so they sort). */
export function latestResult(dir: string, mode: BenchResult['mode'], accept: (r: BenchResult) => boolean = () => true): BenchResult | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse();
  for (const file of files) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as BenchResult;
      if (parsed.version === 1 && parsed.mode === mode && accept(parsed)) return parsed;
    } catch {
      // not ours
    }
  }
  return undefined;
}

function machineLines(m: Machine): string[] {
  return [
    `- machine: ${m.nproc} cores (${m.cpu}), ${Math.round(m.memTotalMb / 1024)} GiB memory (MemTotal ${m.memTotalMb} MB), Linux ${m.kernel}`,
    `- Node.js ${m.node}, PostgreSQL ${m.postgres} (${m.database})`,
    `- load average (1/5/15 min) at start ${m.loadAvgStart.map((v) => v.toFixed(2)).join(' / ')}` +
      (m.loadAvgEnd ? `, at the end ${m.loadAvgEnd.map((v) => v.toFixed(2)).join(' / ')}` : ''),
    ...(m.openFiles ? [`- open files limit (soft/hard): ${m.openFiles.soft} / ${m.openFiles.hard}`] : []),
  ];
}

function resultSection(title: string, r: BenchResult): string {
  const met = r.rows.filter((row) => row.met === true).length;
  const targets = r.rows.filter((row) => row.met !== undefined).length;
  const env = Object.entries(r.serverEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  const kinds = Object.entries(r.serverKinds)
    .map(([k, v]) => `${k}: ${Object.keys(v).length ? Object.entries(v).map(([a, b]) => `${a}=${b}`).join(' ') : '(defaults)'}`)
    .join('; ');
  const plan = r.plan as { durationS?: number; rounds?: number; warmupS?: number };
  return [
    `## ${title}: ${r.date}`,
    '',
    `Command: \`${r.command}\` (${Math.round(r.totalSeconds)} s in all; ${targets ? `${met} of ${targets} targets met` : 'no targets'}).`,
    '',
    ...machineLines(r.machine),
    `- load runs: ${plan.durationS} s each, ${plan.rounds} round(s) interleaved app/reference, ${plan.warmupS} s warm-up; medians over rounds`,
    `- every app server: \`${['node', ...(r.nodeArgs ?? []), 'dist/src/main.js'].join(' ')}\` (as \`npm start\`) with \`${env}\``,
    `- per scenario: ${kinds}`,
    '',
    markdownTable(r.rows),
    '',
    ...(rowNotes(r.rows).length ? ['Notes per row:', '', ...rowNotes(r.rows).map((n) => `- ${n}`), ''] : []),
    ...(r.notes.length ? r.notes.map((n) => `- ${n}`).concat('') : []),
    `Set-up times (s): ${Object.entries(r.setup).map(([k, v]) => `${k} ${round(v, 1)}`).join(', ')}.`,
    '',
  ].join('\n');
}

function profileSection(r: BenchResult): string {
  const p = r.profile!;
  const ref = r.referenceProfile;
  const perRequest = (s: ProfileSummary | undefined) =>
    s?.busyUsPerRequest === undefined ? 'unknown' : `${Math.round(s.busyUsPerRequest)} µs (${s.requests} responses, ${round(s.busyMs / 1000, 1)} s busy)`;
  const measured = r.rows.filter((row) => row.scenario === 'cached-get');
  const lines = [
    `## CPU profile of the cached GET: ${r.date}`,
    '',
    `Command: \`${r.command}\`: the cached-get scenario with the app server and the reference both under \`node --cpu-prof\` ` +
      `(start-up and shutdown left out). Rates under the profiler are lower than without it:`,
    '',
    markdownTable(measured),
    '',
    `Busy CPU per response (main thread, from the profiles): **app ${perRequest(p)}**, reference ${perRequest(ref)}.`,
    ...(p.busyUsPerRequest !== undefined && ref?.busyUsPerRequest !== undefined
      ? [
          '',
          `At 0.6x of the reference a cached GET may cost about ${Math.round(ref.busyUsPerRequest / 0.6)} µs; ` +
            `it costs ${Math.round(p.busyUsPerRequest)} µs. Where the app's time goes, in µs per response (attributed, see below):`,
          '',
          '| package | µs per response | reference µs |',
          '|---|---:|---:|',
          ...(p.attributedByPackage ?? []).slice(0, 14).map((g) => {
            const refShare = ref.attributedByPackage?.find((x) => x.name === g.name)?.pct ?? 0;
            return `| ${g.name} | ${Math.round((g.pct / 100) * p.busyUsPerRequest!)} | ${refShare ? Math.round((refShare / 100) * ref.busyUsPerRequest!) : '-'} |`;
          }),
        ]
      : []),
    '',
    'Top functions by self time (app):',
    '',
    '| self % | self ms | function | where |',
    '|---:|---:|---|---|',
    ...p.topFunctions.map((f) => `| ${fmt(f.selfPct, 1)} | ${int(f.selfMs)} | \`${f.functionName || '(anonymous)'}\` | ${f.location} |`),
    '',
    'Self time by package (busy time, idle excluded):',
    '',
    '| self % | package |',
    '|---:|---|',
    ...p.byPackage.map((g) => `| ${fmt(g.selfPct, 1)} | ${g.name} |`),
    '',
    'Attributed: busy time by the nearest package on the stack that is not Node itself (time in node',
    'core and native code, e.g. the writev of a response, counted for the code that called it):',
    '',
    '| attributed % | package |',
    '|---:|---|',
    ...(p.attributedByPackage ?? []).map((g) => `| ${fmt(g.pct, 1)} | ${g.name} |`),
    '',
    'Inclusive: share of busy time with the package somewhere on the stack (nested packages overlap):',
    '',
    '| inclusive % | package |',
    '|---:|---|',
    ...(p.inclusiveByPackage ?? []).map((g) => `| ${fmt(g.pct, 1)} | ${g.name} |`),
    '',
    'Inclusive, our own functions (dist/src):',
    '',
    '| inclusive % | function | where |',
    '|---:|---|---|',
    ...(p.inclusiveAppFunctions ?? []).map((f) => `| ${fmt(f.pct, 1)} | \`${f.functionName || '(anonymous)'}\` | ${f.location} |`),
    '',
  ];
  return lines.join('\n');
}

export const NOTES_START = '<!-- notes:start (kept when the tool rewrites this file) -->';
export const NOTES_END = '<!-- notes:end -->';

/** The major version of the Node a result ran on ("v24.11.1" -> 24). */
export function nodeMajor(r: BenchResult): number {
  return Number(/^v(\d+)/.exec(r.node ?? r.machine.node)?.[1] ?? 0);
}

/**
 * docs/BENCHMARKS.md: generated sections from the latest results, the hand-written notes kept.
 * The latest full run leads; the latest full run on each other Node major follows it under its own
 * title, so a run on Node 20 and one on Node 24 both stay in the file.
 */
export function renderDocs(resultsDir: string, previous: string | undefined): string {
  const full = latestResult(resultsDir, 'full');
  const otherMajors: BenchResult[] = [];
  if (full) {
    const seen = new Set([nodeMajor(full)]);
    for (;;) {
      const other = latestResult(resultsDir, 'full', (r) => !seen.has(nodeMajor(r)));
      if (!other) break;
      seen.add(nodeMajor(other));
      otherMajors.push(other);
    }
  }
  const quick = latestResult(resultsDir, 'quick');
  // `--profile --scenario X` profiles other scenarios too; this section is the cached GET's.
  const profile = latestResult(resultsDir, 'profile', (r) => r.scenarios.length === 1 && r.scenarios[0] === 'cached-get');
  let notes = '';
  if (previous) {
    const a = previous.indexOf(NOTES_START);
    const b = previous.indexOf(NOTES_END);
    if (a >= 0 && b > a) notes = previous.slice(a + NOTES_START.length, b).trim();
  }
  return [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (tools/bench/run.ts) from the newest files in tools/bench/results/; only the notes',
    'section at the end is written by hand and kept across runs. `npm run bench -- --quick` is the short',
    'version, `--scenario NAME` runs one scenario, `--profile` profiles the cached GET.',
    '',
    'How it measures: the app (`node dist/src/main.js`, one process per configuration) and a reference',
    '(tools/bench/reference/server.ts: bare Fastify and a plain `pg.Pool` of the same size, serving constant JSON',
    "and the same SQL, with response schemas, named prepared statements, the app's node flags and listen backlog)",
    'run as child processes on 127.0.0.1',
    'against the same PostgreSQL, with autocannon',
    'in the bench process as the load generator. App and reference runs alternate (A B A B ...); rates',
    'and latencies are medians over the rounds and a ratio is the median of the per-round ratios.',
    'Everything shares 2 cores: the load generator, the server, the reference and PostgreSQL, and on a',
    'shared machine whatever else runs (other test suites): treat single numbers as noisy, ratios as',
    'more telling. `CPU µs/resp` is the CPU time (user + system, /proc/<pid>/stat) the server process',
    'used per answer, median over the rounds: steadier than req/s.',
    '',
    '**Rate limits are raised for the bench by configuration** (RATE_LIMIT_PER_SECOND, RATE_LIMIT_PER_MINUTE,',
    'RATE_LIMIT_ANON_PER_MINUTE, RATE_LIMIT_LOGIN_PER_MINUTE set very high; the limiter still runs on every',
    'request), and the servers log at **LOG_LEVEL=warn**.',
    '',
    full ? resultSection(`Latest full run (Node ${full.node ?? full.machine.node})`, full) : '## Latest full run\n\nNone yet: `npm run bench`.\n',
    ...otherMajors.map((r) => resultSection(`Latest full run on Node v${nodeMajor(r)}`, r)),
    quick ? resultSection('Latest quick run (`--quick`: tiny dataset, short runs, 1 round)', quick) : null,
    profile?.profile ? profileSection(profile) : null,
    '## Notes',
    '',
    NOTES_START,
    notes,
    NOTES_END,
    '',
  ]
    .filter((s) => s !== null)
    .join('\n');
}
