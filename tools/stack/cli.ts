import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startStack, stackMissing, Stack } from './stack';

/**
 * `npm run stack:local`: the production topology on this machine (nginx -> two instances of
 * dist/src/main.js -> one PostgreSQL and one Redis), everything under .data/stack/, until Ctrl-C
 * or SIGTERM, which stop every process in order. The npm script builds dist/ first.
 */

/** This file runs as dist-dev/tools/stack/cli.js. */
const ROOT = resolve(__dirname, '..', '..', '..');
const DIR = join(ROOT, '.data', 'stack');
const APP_MAIN = join(ROOT, 'dist', 'src', 'main.js');

const say = (message: string) => process.stderr.write(`[stack] ${message}\n`);

async function main(): Promise<void> {
  const missing = stackMissing();
  if (missing) throw new Error(`${missing}: install it (e.g. apt-get install nginx redis-server postgresql)`);
  if (!existsSync(APP_MAIN)) throw new Error(`${APP_MAIN} is missing: run npm run build`);

  let stack: Stack | undefined;
  let ending = false;
  const end = (why: string, code: number) => {
    if (ending) return;
    ending = true;
    say(`${why}: stopping nginx, the instances, Redis and PostgreSQL`);
    void (stack?.stop() ?? Promise.resolve()).then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => end('interrupted', 0));
  process.on('SIGTERM', () => end('terminated', 0));

  stack = await startStack({ dir: DIR, appMain: APP_MAIN, log: say });
  if (ending) return;
  const lines = [
    '',
    `  open       ${stack.url}/docs            (the API through nginx, least_conn over ${stack.instances.length} instances)`,
    `  metrics    ${stack.url}/metrics         (each instance's own: ${stack.instances.map((i) => `${i.url}/metrics`).join(', ')})`,
    `  health     ${stack.url}/health/ready`,
    `  admin      ${stack.admin.email} / ${stack.admin.password}   (ADMIN_EMAIL / ADMIN_PASSWORD; POST /api/auth/login)`,
    `  database   ${stack.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    `  redis      ${stack.redisUrl}`,
    `  logs       ${stack.accessLog} (nginx, with the instance that answered)`,
    `  files      ${DIR} (passwords in secrets.json)`,
    '',
    '  Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));

  // A process that dies on its own takes the stack down with it: a half topology would mislead.
  const watched = [stack.nginx, ...stack.instances.map((i) => i.child), stack.redis, ...(stack.postgres ? [stack.postgres] : [])];
  for (const child of watched) {
    void child.exited.then(() => {
      if (ending) return;
      say(`${child.name} exited (${child.exitStatus}):\n${child.tail(20)}`);
      end(`${child.name} stopped`, 1);
    });
  }
}

main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
