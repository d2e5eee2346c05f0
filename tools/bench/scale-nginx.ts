import { join } from 'node:path';
import { cpuSeconds } from '../shared/processes';
import { startStack, Stack, stackMissing } from '../stack/stack';
import { LoadOptions, LoadResult, runLoad } from './load';
import { auth, mixedRequests, perUser, rowOf } from './requests';
import type { Context, Row, Scenario } from './scenarios';
import { pairedRatio, summarizeRounds } from './stats';

type Variant = { readonly label: string; readonly stack: Stack };

/** One run through `stack`'s nginx, with the CPU time its app instances used per response. */
async function load(stack: Stack, options: Omit<LoadOptions, 'url' | 'durationS'>, durationS: number): Promise<LoadResult> {
  const pids = stack.instances.map((i) => i.child.pid);
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = cpu();
  const result = await runLoad({ ...options, url: stack.url, durationS });
  const used = cpu() - before;
  return result.responses > 0 && Number.isFinite(used) ? { ...result, cpuUsPerResponse: (used * 1e6) / result.responses } : result;
}

/** Both variants warmed up once, then measured in alternating rounds (two, one, two, one...). */
async function compare(ctx: Context, name: string, what: string, variants: readonly [Variant, Variant], options: Omit<LoadOptions, 'url' | 'durationS'>): Promise<Row[]> {
  for (const v of variants) await load(v.stack, options, ctx.plan.warmupS);
  const runs: LoadResult[][] = [[], []];
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (const [i, v] of variants.entries()) runs[i].push(await load(v.stack, options, ctx.plan.durationS));
  }
  const [two, one] = runs.map(summarizeRounds);
  const ratio = pairedRatio(two.reqPerSecRounds, one.reqPerSecRounds).median;
  const c = options.connections;
  return [
    {
      ...rowOf(name, `${what}, ${variants[0].label}`, 'measured', c, two),
      ratio,
      ratioOf: variants[1].label,
      notes: 'reported, not a target: the instances, nginx, PostgreSQL and the load generator share the cores',
    },
    rowOf(name, `baseline: ${what}, ${variants[1].label}`, 'baseline', c, one),
  ];
}

/**
 * The production topology (tools/stack: nginx with docker/nginx/app.conf.template, least_conn,
 * Redis shared) with two app instances against the same with one, on the bench's database: the
 * cached GET and the mixed scenario. Both stacks run side by side and are measured in turn.
 */
export const scaleNginx: Scenario = {
  name: 'scale-nginx',
  description: 'two instances through nginx vs one instance through nginx (tools/stack, shared Redis): cached GET and the mixed scenario',
  servers: [],
  async run(ctx) {
    const missing = stackMissing();
    if (missing) return [{ scenario: this.name, label: 'two instances vs one through nginx', kind: 'check', notes: `SKIPPED: ${missing}` }];
    // Under the bench's private build folder, which the bench removes at the end.
    const base = join(ctx.app.main, '..', '..');
    const options = (dir: string, instances: 1 | 2) => ({
      dir: join(base, dir),
      appMain: ctx.app.main,
      instances,
      databaseUrl: ctx.app.env.DATABASE_URL,
      env: ctx.app.env,
      nodeArgs: ctx.app.nodeArgs,
      log: ctx.log,
    });
    const stacks: Stack[] = [];
    try {
      stacks.push(await startStack(options('stack-two', 2)));
      stacks.push(await startStack(options('stack-one', 1)));
      const variants: [Variant, Variant] = [
        { label: 'two instances through nginx', stack: stacks[0] },
        { label: 'one instance through nginx', stack: stacks[1] },
      ];
      const user = ctx.fixtures.users[0];
      const c = ctx.plan.connections;
      return [
        ...(await compare(ctx, this.name, 'cached GET /api/projects/:id', variants, { connections: c, path: `/api/projects/${user.projects[0]}`, headers: auth(user) })),
        ...(await compare(ctx, this.name, `mixed, ${ctx.fixtures.users.length} users`, variants, { connections: c, setupClient: perUser(ctx.fixtures.users, mixedRequests) })),
      ];
    } finally {
      await Promise.all(stacks.map((s) => s.stop()));
    }
  },
};
