import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Measured figures of the fault tests (how fast readiness turned, how long recovery took), kept
 * in .data/reliability-figures.jsonl for docs/RELIABILITY.md. Assertions never read them.
 */
export function recordFigure(name: string, value: number | string, unit = ''): void {
  const dir = join(__dirname, '..', '..', '.data');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'reliability-figures.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), name, value, unit })}\n`);
}
