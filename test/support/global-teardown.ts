import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const embedded = globalThis.__TEST_POSTGRES__;
  if (!embedded) return;
  await embedded.postgres.stop();
  rmSync(embedded.dir, { recursive: true, force: true });
}
