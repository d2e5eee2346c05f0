import { join } from 'node:path';
import { Child } from '../../tools/shared/child';

const CHILD = join(__dirname, '..', '..', 'dist-dev', 'test', 'support', 'embedded-pg-child.js');

/** An embedded PostgreSQL in a child process that a test can stop and start again on the same data. */
export class DatabaseProcess {
  private child: Child | undefined;
  url = '';

  constructor(
    private readonly dir: string,
    private readonly port: number,
  ) {}

  async start(): Promise<string> {
    this.child = new Child('database process', process.execPath, [CHILD, this.dir, String(this.port)]);
    // The first start of a data folder runs initdb: far longer than a server's start.
    this.url = (await this.child.waitForLine(/^DATABASE_URL=(\S+)$/, 120_000))[1];
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await child?.stop('SIGTERM', 30_000);
  }
}
