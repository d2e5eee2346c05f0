import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** The short version of `npm run soak`: it must run end to end and pass its own criteria. */
describe('soak (short run, server process, real PostgreSQL)', () => {
  it('keeps connections and errors at zero through load, pool exhaustion and cache flushes', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist-dev', 'tools', 'soak.js'), '--seconds', '9'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const [code] = await once(child, 'exit');

    expect(output).toMatch(/\| 3 \| pool exhausted \|/);
    expect(output).toMatch(/\| 2 \| cache flushed \|/);
    expect(output).toContain('phases with connections left checked out: 0; unexpected errors: 0');
    expect(output).toContain('soak: PASS');
    expect(code).toBe(0);
  }, 120_000);
});
