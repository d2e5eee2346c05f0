import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFiles, dockerignore, execForm, flag, ofKeyword, parseStages, runStage, Stage } from './dockerfile';

const ROOT = join(__dirname, '..', '..');
const DOCKERFILE = join(ROOT, 'docker', 'Dockerfile');
const IGNORE_FILE = join(ROOT, 'docker', 'Dockerfile.dockerignore');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

const stages = parseStages(readFileSync(DOCKERFILE, 'utf8'));
const build = stages[0];
const runtime = stages[stages.length - 1];
const only = (stage: Stage, keyword: string) => {
  const found = ofKeyword(stage, keyword);
  expect(found).toHaveLength(1);
  return found[0];
};

/** The files `docker build` would send: the repository's files (tracked or new) minus the ignore file's patterns. */
function buildContext(): string[] {
  const ignored = dockerignore(readFileSync(IGNORE_FILE, 'utf8'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\0')
    .filter((file) => file !== '' && !ignored(file) && existsSync(join(ROOT, file)) && lstatSync(join(ROOT, file)).isFile());
}

describe('docker/Dockerfile, read as a builder would', () => {
  it('builds in one stage and runs from another, both on Node 24', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe('build');
    for (const stage of stages) expect(stage.from.getImage()).toBe('node:24-bookworm-slim');
    expect(ofKeyword(build, 'RUN').map((r) => r.getArgumentsContent())).toEqual([
      expect.stringMatching(/^npm ci\b/),
      'npm run build',
      expect.stringMatching(/^npm prune --omit=dev\b/),
    ]);
  });

  it('runs the app as a non-root user, under tini, with the node flags of `npm start` and no npm', () => {
    const user = only(runtime, 'USER').getArgumentsContent() ?? '';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);

    const entrypoint = execForm(only(runtime, 'ENTRYPOINT'));
    expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
    // tini comes from Debian, installed in the runtime stage itself.
    expect(ofKeyword(runtime, 'RUN').some((r) => /apt-get install\b.*\btini\b/s.test(r.getArgumentsContent() ?? ''))).toBe(true);

    const cmd = execForm(only(runtime, 'CMD'));
    expect(cmd).toEqual(pkg.scripts.start.split(/\s+/));
    expect(cmd?.[0]).toBe('node');
    expect([...(entrypoint ?? []), ...(cmd ?? [])].filter((arg) => /\bnpm\b|\bnpx\b/.test(arg))).toEqual([]);
  });

  it('stops with SIGTERM and reports health by asking /health/ready with node (no curl in the image)', () => {
    expect(only(runtime, 'STOPSIGNAL').getArgumentsContent()).toBe('SIGTERM');
    const healthcheck = only(runtime, 'HEALTHCHECK');
    const [kind, ...rest] = (healthcheck.getArgumentsContent() ?? '').split(/\s+/);
    expect(kind).toBe('CMD');
    const probe = JSON.parse(rest.join(' ')) as string[];
    expect(probe.slice(0, 2)).toEqual(['node', '-e']);
    expect(probe[2]).toContain("'/health/ready'");
    expect(probe[2]).toContain('process.env.PORT || 3000');
    expect(flag(healthcheck, 'start-period')).toBeDefined();
  });

  it('ships only the build output, the production node_modules and package.json', () => {
    expect(ofKeyword(runtime, 'ADD')).toEqual([]);
    const copies = ofKeyword(runtime, 'COPY').map((c) => ({ from: flag(c, 'from'), args: execForm(c) ?? c.getArguments().map((a) => a.getValue()) }));
    expect(copies).toEqual([
      { from: 'build', args: ['/app/package.json', './'] },
      { from: 'build', args: ['/app/node_modules', './node_modules'] },
      { from: 'build', args: ['/app/dist', './dist'] },
    ]);
    expect(only(runtime, 'WORKDIR').getArgumentsContent()).toBe(only(build, 'WORKDIR').getArgumentsContent());
    expect(ofKeyword(runtime, 'ENV').map((e) => e.getArgumentsContent())).toEqual(['NODE_ENV=production']);
  });

  it('keeps host build products and data out of the build context', () => {
    const ignored = dockerignore(readFileSync(IGNORE_FILE, 'utf8'));
    for (const path of ['node_modules/jest/package.json', 'clients/typescript/node_modules/x/index.js', 'dist/src/main.js', 'dist/.tsbuildinfo', 'dist-dev/src/main.js', '.data/postgres/PG_VERSION', '.git/HEAD']) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    }
    const context = buildContext();
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'src/migrate.cli.ts']) {
      expect(context).toContain(needed);
    }
  });

  // The build stage's RUN steps, for real, in a copy of the build context: `npm ci` accepts the
  // lock file, the build writes dist/, and the prune leaves production packages only. It runs on
  // this machine's node and npm (from its npm cache when the packages are there), not the image's
  // Node 24: what it proves is that the steps and the files they are given are enough.
  it('runs the build stage: npm ci, build, prune to production dependencies', async () => {
    const work = mkdtempSync(join(tmpdir(), 'image-build-'));
    try {
      const context = join(work, 'context');
      const rootfs = join(work, 'rootfs');
      copyFiles(ROOT, context, buildContext());
      const steps = await runStage(build, {
        context,
        rootfs,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? work,
          npm_config_prefer_offline: 'true',
          npm_config_update_notifier: 'false',
        },
        timeoutMs: 8 * 60_000,
      });
      console.log(`build stage in ${work}:\n${steps.map((s) => `  ${(s.ms / 1000).toFixed(1)} s  ${s.step}`).join('\n')}`);

      const app = join(rootfs, 'app');
      for (const built of ['dist/src/main.js', 'dist/src/migrate.cli.js', 'package.json']) expect(existsSync(join(app, built))).toBe(true);
      expect(readdirSync(join(app, 'dist', 'migrations')).some((f) => f.endsWith('.js'))).toBe(true);

      const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
      const devOnly = Object.entries(lock.packages).filter(([path, meta]) => path !== '' && meta.dev).map(([path]) => path);
      expect(devOnly.length).toBeGreaterThan(100);
      expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
      expect(existsSync(join(app, 'node_modules', 'jest'))).toBe(false);
      expect(existsSync(join(app, 'node_modules', '@nestjs', 'core'))).toBe(true);

      // Both entry points load their whole import graph from the pruned node_modules before they
      // read the configuration, which stops them with exit 2 / 1 here: a missing package would
      // fail earlier with "Cannot find module".
      const env = { PATH: process.env.PATH ?? '', PORT: 'not-a-port' };
      const start = pkg.scripts.start.split(/\s+/);
      const main = await exitOf(start[0] === 'node' ? process.execPath : start[0], start.slice(1), app, env);
      expect(main).toEqual({ code: 2, output: expect.stringContaining('PORT must be') });
      const migrate = await exitOf(process.execPath, ['dist/src/migrate.cli.js', 'run'], app, env);
      expect(migrate).toEqual({ code: 1, output: expect.stringContaining('PORT must be') });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 15 * 60_000);
});

function exitOf(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
