import { readFileSync } from 'node:fs';

/** A V8 .cpuprofile as `node --cpu-prof` writes it. */
interface CpuProfile {
  nodes: { id: number; children?: number[]; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  readonly functionName: string;
  readonly location: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time. */
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Responses the profiled server sent to the load generator, and its busy CPU time per response. */
  readonly requests?: number;
  readonly busyUsPerRequest?: number;
  /** The part of the profile summarized: after start-up, before shutdown. */
  readonly windowMs: { from: number; to: number; of: number };
  readonly totalMs: number;
  readonly busyMs: number;
  readonly idlePct: number;
  readonly topFunctions: ProfileEntry[];
  readonly byPackage: { name: string; selfMs: number; selfPct: number }[];
  /**
   * Busy time by the package nearest the sampled frame that is not Node itself: time in node core,
   * native code (writev, hashing) or V8 builtins goes to the library or app code that called it.
   * Adds up to 100 % (with the garbage collector and V8's own frames apart).
   */
  readonly attributedByPackage: { name: string; pct: number }[];
  /** Share of busy time with at least one frame of the package on the stack (overlaps). */
  readonly inclusiveByPackage: { name: string; pct: number }[];
  /** Share of busy time with the function on the stack, for functions of our own code (dist/src). */
  readonly inclusiveAppFunctions: { functionName: string; location: string; pct: number }[];
}

/** Our compiled code, in dist/, dist-dev/ or the bench's private copy of it: its path inside that folder. */
export function builtPath(url: string): string | undefined {
  const match = /\/(?:dist|dist-dev|bench-build\/\d+)\/(.*)$/.exec(url);
  return match && !url.includes('node_modules/') ? match[1] : undefined;
}

/** node_modules/<pkg> (scoped too), our own dist/ file, node: internals, or V8's pseudo-frames. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const built = builtPath(url);
  if (built !== undefined) return 'app: ' + built.split('/').slice(0, 2).join('/');
  return url;
}

function shortLocation(url: string, line: number): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  const built = builtPath(url);
  const path = nm >= 0 ? url.slice(nm + 'node_modules/'.length) : built !== undefined ? `dist/${built}` : url.replace(/^file:\/\//, '');
  return `${path}:${line + 1}`;
}

/**
 * Self time per function and per package, from the samples and their time deltas. `skipStartMs`
 * and `skipEndMs` leave out start-up (module loading, Nest's bootstrap) and shutdown.
 */
export function summarizeProfile(file: string, { top = 25, skipStartMs = 0, skipEndMs = 0 } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = profile.startTime + skipStartMs * 1000;
  const to = profile.endTime - skipEndMs * 1000;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let totalUs = 0;
  let idleUs = 0;
  const perFunction = new Map<string, { functionName: string; location: string; us: number }>();
  const perPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const location = shortLocation(url, lineNumber);
    const key = `${functionName}@${location}`;
    const entry = perFunction.get(key) ?? { functionName, location, us: 0 };
    entry.us += us;
    perFunction.set(key, entry);
    const pkg = packageOf(url, functionName);
    perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);

  // Inclusive view: walk each sampled node's stack once (memoized per node).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const packagesOf = new Map<number, Set<string>>();
  const appFunctionsOf = new Map<number, Set<string>>();
  const frames = new Map<string, { functionName: string; location: string }>();
  const stackSets = (id: number) => {
    if (!packagesOf.has(id)) {
      const pkgs = new Set<string>();
      const fns = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame) continue;
        pkgs.add(packageOf(frame.url, frame.functionName));
        if (builtPath(frame.url)?.startsWith('src/')) {
          const location = shortLocation(frame.url, frame.lineNumber);
          const key = `${frame.functionName}@${location}`;
          frames.set(key, { functionName: frame.functionName, location });
          fns.add(key);
        }
      }
      packagesOf.set(id, pkgs);
      appFunctionsOf.set(id, fns);
    }
    return { pkgs: packagesOf.get(id)!, fns: appFunctionsOf.get(id)! };
  };
  const CORE = new Set(['node (core)', '(native)', '(root)']);
  const attributedOf = new Map<number, string>();
  const attributed = (id: number) => {
    let name = attributedOf.get(id);
    if (name === undefined) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame) continue;
        const pkg = packageOf(frame.url, frame.functionName);
        if (!CORE.has(pkg)) {
          name = pkg;
          break;
        }
      }
      name ??= packageOf(byId.get(id)?.callFrame.url ?? '', byId.get(id)?.callFrame.functionName ?? '');
      attributedOf.set(id, name);
    }
    return name;
  };
  const attributedPkg = new Map<string, number>();
  const inclusivePkg = new Map<string, number>();
  const inclusiveFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)') continue;
    const owner = attributed(id);
    attributedPkg.set(owner, (attributedPkg.get(owner) ?? 0) + us);
    if (name === '(program)' || name === '(garbage collector)') continue;
    const { pkgs, fns } = stackSets(id);
    for (const p of pkgs) inclusivePkg.set(p, (inclusivePkg.get(p) ?? 0) + us);
    for (const f of fns) inclusiveFn.set(f, (inclusiveFn.get(f) ?? 0) + us);
  }
  return {
    file,
    busyMs: busyUs / 1000,
    windowMs: { from: skipStartMs, to: (to - profile.startTime) / 1000, of: (profile.endTime - profile.startTime) / 1000 },
    totalMs: totalUs / 1000,
    idlePct: (idleUs / Math.max(1, totalUs)) * 100,
    topFunctions: [...perFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.us / 1000, selfPct: (e.us / busyUs) * 100 })),
    byPackage: [...perPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([name, us]) => ({ name, selfMs: us / 1000, selfPct: (us / busyUs) * 100 })),
    attributedByPackage: [...attributedPkg.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([name, us]) => ({ name, pct: (us / busyUs) * 100 })),
    inclusiveByPackage: [...inclusivePkg.entries()]
      .filter(([name]) => name !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([name, us]) => ({ name, pct: (us / busyUs) * 100 })),
    inclusiveAppFunctions: [...inclusiveFn.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([key, us]) => ({ ...frames.get(key)!, pct: (us / busyUs) * 100 })),
  };
}
