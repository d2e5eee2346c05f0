import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const CHILD = join(__dirname, '..', '..', 'dist', 'test', 'support', 'embedded-pg-child.js');

/** An embedded PostgreSQL in a child process that a test can stop and start again on the same data. */
export class DatabaseProcess {
  private child: ChildProcess | undefined;
  url = '';

  constructor(
    private readonly dir: string,
    private readonly port: number,
  ) {}

  async start(): Promise<string> {
    const child = spawn(process.execPath, [CHILD, this.dir, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /^DATABASE_URL=(\S+)$/m.exec(output);
        if (match) {
          this.url = match[1];
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`database process exited (${code}): ${output}`)));
    });
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
