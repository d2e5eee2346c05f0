import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startNodeArgs } from './processes';

describe('startNodeArgs', () => {
  const packageWith = (start: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'start-args-')), 'package.json');
    writeFileSync(file, JSON.stringify({ scripts: { start } }));
    return file;
  };

  it('reads the node flags of this repository’s start script', () => {
    expect(startNodeArgs(resolve(__dirname, '..', '..', 'package.json'))).toEqual(['--max-semi-space-size=32']);
  });

  it('reads none, one or several flags, and refuses a start script of another shape', () => {
    expect(startNodeArgs(packageWith('node dist/src/main.js'))).toEqual([]);
    expect(startNodeArgs(packageWith('node --a=1 --b dist/src/main.js'))).toEqual(['--a=1', '--b']);
    expect(() => startNodeArgs(packageWith('nest start'))).toThrow(/start script/);
  });
});
