import { ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildOptions {
  /**
   * The child's whole environment, plus PATH and HOME: the caller's own variables (DATABASE_URL
   * above all) must not leak into a run meant to be zero-config. Absent: the caller's environment.
   */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Output lines kept for error messages and assertions; the oldest go first. */
  readonly keepLines?: number;
  /** Run as this user and group (a server that refuses to run as root, started by root). */
  readonly uid?: number;
  readonly gid?: number;
}

/** How a child ended: its exit code, or the signal that ended it, or the error that kept it from starting. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/**
 * A child process whose stdout and stderr lines are kept, that can be waited on (a line, an HTTP
 * answer, its exit) and stopped with a grace period. Shared by the tests, the bench and the tools.
 */
export class Child {
  /** The last `keepLines` lines of stdout and stderr, interleaved as they came. */
  readonly output: string[] = [];
  readonly exited: Promise<ChildExit>;
  private readonly proc: ChildProcess;
  private exit: ChildExit | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    { env, cwd, keepLines = 10_000, uid, gid }: ChildOptions = {},
  ) {
    const fullEnv = env && { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
    this.proc = spawn(command, args, { env: fullEnv, cwd, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (lines: string[]) => {
      this.output.push(...lines.filter((line) => line.trim() !== ''));
      if (this.output.length > keepLines) this.output.splice(0, this.output.length - keepLines);
    };
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      // A chunk may end inside a line: the rest waits for the next chunk, or for the end.
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        keep(lines);
      });
      stream.on('end', () => keep([partial]));
    }
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
      this.proc.once('error', (error) => {
        this.output.push(String(error));
        resolve((this.exit = { code: null, signal: null, error }));
      });
    });
  }

  /** -1 when the process could not be started. */
  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The exit code, the signal, or "error"; undefined while running. */
  get exitStatus(): number | NodeJS.Signals | 'error' | undefined {
    if (!this.exit) return undefined;
    return this.exit.error ? 'error' : (this.exit.code ?? this.exit.signal ?? undefined);
  }

  /** The last `n` output lines, indented, for an error message. */
  tail(n = 40): string {
    return this.output.slice(-n).map((line) => `    ${line}`).join('\n');
  }

  /** Resolves with the first output line matching `pattern` (its match); rejects when the child exits first. */
  async waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.output) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (!this.running) throw new Error(`${this.name} exited (${this.exitStatus}):\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(50);
    }
  }

  /** Polls `url` until it answers 200; rejects when the child exits first or after `timeoutMs`. */
  async waitForHttp(url: string, timeoutMs: number, what = `${this.name} ready`): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited (${this.exitStatus}) before ${what}:\n${this.tail()}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        const error = err as Error & { cause?: { code?: string } };
        last = error.cause?.code ?? error.message;
      }
      await sleep(100);
    }
    throw new Error(`${what}: ${url} not 200 within ${timeoutMs} ms (last: ${last}):\n${this.tail()}`);
  }

  /**
   * Sends `signal` (when still running), then SIGKILL after `graceMs`. Resolves with how it ended,
   * whether SIGKILL was needed, and how long the exit took.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<ChildExit & { killed: boolean; ms: number }> {
    const started = Date.now();
    if (this.running) this.proc.kill(signal);
    let killed = false;
    const timer = setTimeout(() => {
      if (this.running) {
        killed = true;
        this.proc.kill('SIGKILL');
      }
    }, graceMs);
    try {
      return { ...(await this.exited), killed, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL at once, for a test's clean-up. */
  kill(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }
}
