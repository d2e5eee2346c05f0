import { join } from 'node:path';
import { Child } from '../../tools/shared/child';

const MAIN = join(__dirname, '..', '..', 'dist-dev', 'src', 'main.js');

export { freePort } from '../../tools/shared/processes';

/**
 * The server `npm test` compiled (dist-dev/src, the same sources and compiler options as `npm start`'s
 * dist/src) as a real child process.
 */
export class ServerProcess extends Child {
  constructor(env: Record<string, string>) {
    super('server', process.execPath, [MAIN], { env, keepLines: Number.POSITIVE_INFINITY });
  }

  // Generous: a boot takes about a second alone, many times that on a loaded 2-core machine.
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    return this.waitForLine(pattern, timeoutMs);
  }

  /** Resolves with the exit code once the server ends by itself. */
  async wait(): Promise<number | null> {
    return (await this.exited).code;
  }
}
