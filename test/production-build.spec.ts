import { execFileSync } from 'node:child_process';
import { join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The project's own files `tsc -p <config>` would compile (libraries and node_modules left out). */
function ownFiles(config: string): string[] {
  const listed = execFileSync(process.execPath, [TSC, '--listFilesOnly', '-p', config], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\n')
    .filter((file) => file.trim() !== '')
    .map((file) => relative(ROOT, file))
    .filter((file) => !file.startsWith('..') && !file.split(sep).includes('node_modules'));
}

// `npm start` runs dist/, built from tsconfig.build.json: benchmark and tool code there would ship
// dev dependencies (autocannon) and their imports into production.
describe('the production build (tsconfig.build.json)', () => {
  it('compiles src/ and migrations/ only, without tests', () => {
    const files = ownFiles('tsconfig.build.json');

    expect(files).toContain(join('src', 'main.ts'));
    expect(files.some((file) => file.startsWith(`migrations${sep}`))).toBe(true);
    expect(files.filter((file) => !file.startsWith(`src${sep}`) && !file.startsWith(`migrations${sep}`))).toEqual([]);
    expect(files.filter((file) => /\.(e2e-)?spec\.ts$/.test(file))).toEqual([]);
  }, 60_000);
});
