import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutocannonClient, AutocannonRequest, LoadOptions, LoadResult, runLoad } from './load';
import type { ChildServer } from './processes';
import type { BenchUser, Context, Row, Scenario } from './scenarios';
import { cpuSeconds, rssMb } from '../shared/processes';
import { round } from '../shared/stats';
import { rowOf } from './requests';
import { RoundsSummary, summarizeRounds } from './stats';

/**
 * Scale-out rows for WORKERS: one process vs WORKERS=2 on the same port, for the cached GET and
 * the mixed scenario (interleaved A B A B, so a busy neighbour on this shared machine weighs on
 * both), and the 5,000-busy-connection scenario with WORKERS=2. CPU and RSS are the process
 * group's (primary plus workers, from /proc). Without Redis, as the bench runs: every rate-limit
 * hit and every write's invalidation is an IPC round trip to the primary, which these rows price.
 */

/** The primary and its workers (Linux: /proc/<pid>/task/<pid>/children). */
function groupPids(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(children === '' ? [] : children.split(' ').map(Number))];
  } catch {
    return [pid];
  }
}

const groupCpuSeconds = (pid: number) => groupPids(pid).reduce((n, p) => n + cpuSeconds(p), 0);
const groupRssMb = (pid: number) => groupPids(pid).reduce((n, p) => n + rssMb(p), 0);

const auth = (user: BenchUser) => ({ authorization: `Bearer ${user.token}` });
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/** Connection i loads as users[i % n], with that user's requests. */
function perUser(users: readonly BenchUser[], build: (user: BenchUser, index: number) => AutocannonRequest[]): (client: AutocannonClient) => void {
  let next = 0;
  return (client) => {
    const index = next++;
    client.setRequests(build(users[index % users.length], index));
  };
}

/** The bench's cached GET: each connection reads one of its user's projects (warmed: a hit). */
const cachedGet = (users: readonly BenchUser[]) => perUser(users, (user, i) => [{ method: 'GET', path: `/api/projects/${user.projects[i % user.projects.length]}`, headers: auth(user) }]);

/** The bench's mixed scenario: 80% GET a project, 15% list, 5% POST an activity. */
function mixed(users: readonly BenchUser[]): (client: AutocannonClient) => void {
  const body = JSON.stringify({ agent: 'bench', action: 'mixed.posted', payload: { n: 1 } });
  return perUser(users, (user) =>
    Array.from({ length: 20 }, (_, i): AutocannonRequest => {
      if (i === 19) {
        return { method: 'POST', headers: { ...auth(user), 'content-type': 'application/json' }, body, setupRequest: (req) => ({ ...req, path: `/api/projects/${pick(user.projects)}/activities` }) };
      }
      if (i % 5 === 4) return { method: 'GET', path: '/api/projects?limit=20', headers: auth(user) };
      return { method: 'GET', headers: auth(user), setupRequest: (req) => ({ ...req, path: `/api/projects/${pick(user.projects)}` }) };
    }),
  );
}

type Spec = Omit<LoadOptions, 'url' | 'durationS'> & { readonly server: ChildServer };

async function measure(spec: Spec, durationS: number): Promise<LoadResult> {
  const { server, ...options } = spec;
  const before = groupCpuSeconds(server.pid);
  const result = await runLoad({ ...options, url: server.url, durationS });
  const used = groupCpuSeconds(server.pid) - before;
  return result.responses > 0 && Number.isFinite(used) ? { ...result, cpuUsPerResponse: (used * 1e6) / result.responses } : result;
}

/** Warm-up each, then rounds of A B A B. */
async function interleaved(ctx: Context, specs: readonly Spec[]): Promise<RoundsSummary[]> {
  for (const spec of specs) await measure(spec, ctx.plan.warmupS);
  const runs: LoadResult[][] = specs.map(() => []);
  for (let r = 0; r < ctx.plan.rounds; r++) for (let i = 0; i < specs.length; i++) runs[i].push(await measure(specs[i], ctx.plan.durationS));
  return runs.map(summarizeRounds);
}

const row = (label: string, kind: Row['kind'], connections: number, s: RoundsSummary, notes?: string): Row =>
  rowOf(scaleWorkers.name, label, kind, connections, s, notes);

/** Until both workers report on /metrics: the primary's readiness only means one has booted. */
async function bothWorkersUp(server: ChildServer): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 60_000; await sleep(200)) {
    const text = await fetch(`${server.url}/metrics`).then((r) => r.text(), () => '');
    if (text.includes('worker="1"') && text.includes('worker="2"')) return;
  }
  throw new Error(`WORKERS=2: both workers did not come up within 60 s`);
}

export const scaleWorkers: Scenario = {
  name: 'scale-workers',
  description: 'one process vs WORKERS=2 (node:cluster, no Redis): cached GET and mixed, interleaved; 5,000 busy connections with WORKERS=2',
  servers: ['cached', 'workers-2'],
  async run(ctx) {
    const one = await ctx.server('cached');
    const two = await ctx.server('workers-2');
    await bothWorkersUp(two);
    const users = ctx.fixtures.users;
    const c = ctx.plan.connections;
    const rows: Row[] = [];
    for (const [name, setupClient] of [
      ['cached GET', cachedGet(users)],
      ['mixed (80% get, 15% list, 5% post)', mixed(users)],
    ] as const) {
      const [a, b] = await interleaved(ctx, [
        { server: one, connections: c, setupClient },
        { server: two, connections: c, setupClient },
      ]);
      const ratio = round(b.reqPerSec / a.reqPerSec, 2);
      rows.push(row(`app ${name}, one process`, 'baseline', c, a));
      rows.push({
        ...row(`app ${name}, WORKERS=2`, 'measured', c, b, `${ratio}x the one process; CPU per response is the group's (primary + workers)`),
        ratio,
        ratioOf: `app ${name}, one process`,
      });
    }

    // All connections busy, as the c5000 scenario, on the two workers.
    const many = ctx.plan.manyConnections;
    await ctx.retain(['workers-2']);
    const spec: Spec = { server: two, connections: many, timeoutS: 10, setupClient: cachedGet(users) };
    await measure({ ...spec, connections: c }, ctx.plan.warmupS);
    const runs: LoadResult[] = [];
    let peak = 0;
    for (let r = 0; r < ctx.plan.rounds; r++) {
      const sampler = setInterval(() => (peak = Math.max(peak, groupRssMb(two.pid))), 100);
      try {
        runs.push(await measure(spec, ctx.plan.durationS));
      } finally {
        clearInterval(sampler);
      }
      await sleep(500);
    }
    const s = summarizeRounds(runs);
    rows.push({
      ...row(`app cached GET, WORKERS=2, ${many} connections all busy`, 'measured', many, s, `group RSS peak ${round(peak, 0)} MB (primary + 2 workers); timeouts ${s.timeouts}`),
      target: '0 errors/timeouts, p99 < 1000 ms',
      met: s.errors === 0 && s.timeouts === 0 && s.non2xx === 0 && s.p99 < 1000,
    });
    return rows;
  },
};
