import { readFileSync } from 'node:fs';
import { Child } from '../shared/child';

const running = new Set<ChildServer>();
/** Set by stopAllChildren: no child may start after it (a scenario still running during Ctrl-C). */
let closed = false;

export interface ChildServerOptions {
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
  private child: Child | undefined;
  /** Wall-clock moments (Date.now()) of its life, to line a CPU profile up with it. */
  readonly times = { spawned: 0, ready: 0, stopping: 0, exited: 0 };

  constructor(readonly options: ChildServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get alive(): boolean {
    return this.child?.running ?? false;
  }

  output(last = 40): string {
    return this.child?.output.slice(-last).join('\n') ?? '';
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (closed) throw new Error(`not starting ${this.options.name}: the bench is stopping`);
    const { name, script, env, nodeArgs = [], openFiles } = this.options;
    const args = [...nodeArgs, script];
    this.times.spawned = Date.now();
    // `exec` keeps the pid: it is node's, whose VmRSS we read.
    const child = openFiles
      ? new Child(name, '/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...args], { env, keepLines: 400 })
      : new Child(name, process.execPath, args, { env, keepLines: 400 });
    this.child = child;
    running.add(this);
    void child.exited.then(() => {
      this.times.exited = Date.now();
      running.delete(this);
    });
    try {
      await child.waitForHttp(this.url + this.options.readyPath, timeoutMs, `${name} ready`);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.times.ready = Date.now();
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.child) return null;
    if (this.alive) this.times.stopping = Date.now();
    return (await this.child.stop('SIGTERM', graceMs)).code;
  }
}

/** Stops every child still running, in parallel. */
export async function stopAllChildren(graceMs = 10_000): Promise<void> {
  closed = true;
  await Promise.all([...running].map((c) => c.stop(graceMs).catch(() => null)));
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
