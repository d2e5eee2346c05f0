import { EmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * Runs an embedded PostgreSQL in its own process, for tests that stop and start a database:
 * prints "DATABASE_URL=<the app role's URL>" once up; SIGTERM stops PostgreSQL cleanly and
 * exits. (The embedded-postgres binaries package is ESM-only and cannot be loaded inside Jest's
 * workers on Node 20.)
 */
async function main(): Promise<void> {
  const [dir, port] = process.argv.slice(2);
  const postgres = new EmbeddedPostgres({ dir, port: Number(port) });
  const { appUrl } = await postgres.start();
  // Before the URL goes out: a test may send SIGTERM as soon as it reads it, and without a handler
  // that signal kills this process and leaves PostgreSQL running.
  process.once('SIGTERM', () => {
    void postgres.stop().then(() => process.exit(0));
  });
  process.stdout.write(`DATABASE_URL=${appUrl}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
