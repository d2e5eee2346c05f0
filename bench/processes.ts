import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The soft and hard limits on open files of this process (from /proc; undefined off Linux). */
export function openFileLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    if (!line) return undefined;
    const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
    const n = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
    return { soft: n(soft), hard: n(hard) };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB, from /proc/<pid>/status VmRSS; NaN when unreadable. */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in seconds, from a /proc/<pid>/stat line: fields 14
 * and 15 in clock ticks (USER_HZ, 100 on Linux). The name field may hold spaces and parentheses, so
 * fields are counted after its closing parenthesis.
 */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used by a process so far; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

const running = new Set<ChildServer>();
/** Set by stopAllChildren: no child may start after it (a scenario still running during Ctrl-C). */
let closed = false;

export interface ChildOptions {
  readonly name: string;
  readonly script: string;
  readonly env: Record<string, string>;
  readonly port: number;
  /** Path answering 200 once the child is ready. */
  readonly readyPath: string;
  readonly nodeArgs?: readonly string[];
  /** Raise the soft open-files limit of the child to this (through `sh -c 'ulimit -n N; exec node'`). */
  readonly openFiles?: number;
}

/**
 * A server as a child process (`node <script>`), started with only the environment it is given.
 * Its output is kept (last lines) for error messages. Every started child is tracked so that
 * `stopAllChildren()` can end them on failure or Ctrl-C.
 */
export class ChildServer {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly lines: string[] = [];
  /** Wall-clock moments (Date.now()) of its life, to line a CPU profile up with it. */
  readonly times = { spawned: 0, ready: 0, stopping: 0, exited: 0 };

  constructor(readonly options: ChildOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(last = 40): string {
    return this.lines.slice(-last).join('\n');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (closed) throw new Error(`not starting ${this.options.name}: the bench is stopping`);
    const { script, env, nodeArgs = [], openFiles } = this.options;
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
    const args = [...nodeArgs, script];
    this.times.spawned = Date.now();
    // `exec` keeps the pid: it is node's, whose VmRSS we read.
    this.child = openFiles
      ? spawn('/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...args], { env: base, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { env: base, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
      }
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = once(this.child, 'exit').then(([code]) => {
      this.times.exited = Date.now();
      running.delete(this);
      return code as number | null;
    });
    await this.waitReady(timeoutMs);
    this.times.ready = Date.now();
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${this.options.name} exited during start-up:\n${this.output()}`);
      try {
        const res = await fetch(this.url + this.options.readyPath, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.options.name} not ready within ${timeoutMs} ms:\n${this.output()}`);
      }
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.child || !this.exited) return null;
    if (this.alive) {
      this.times.stopping = Date.now();
      this.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      if (this.alive) this.child?.kill('SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Stops every child still running, in parallel. */
export async function stopAllChildren(graceMs = 10_000): Promise<void> {
  closed = true;
  await Promise.all([...running].map((c) => c.stop(graceMs).catch(() => null)));
}

/** Samples VmRSS of `pid` every `everyMs` until stopped; returns the peak in MB. */
export function sampleRss(pid: number, everyMs = 200): { stop: () => number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const now = rssMb(pid);
      return Math.max(peak, Number.isNaN(now) ? peak : now);
    },
  };
}

/**
 * The node flags `npm start` runs the app with (package.json's start script), so that the bench
 * measures the process users run.
 */
export function startNodeArgs(packageJson: string): string[] {
  const start = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: { start: string } }).scripts.start.trim();
  const match = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/src\/main\.js$/.exec(start);
  if (!match) throw new Error(`the start script is not "node [--flags] dist/src/main.js": ${start}`);
  return match[1].split(/\s+/).filter(Boolean);
}
