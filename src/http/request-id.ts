import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[A-Za-z0-9._:@-]{1,128}$/;

// A made id is a random UUID drawn once, whose last 8 hex digits count requests (a new UUID is
// drawn when the count wraps): unique across instances and restarts, in the UUID shape, and a
// quarter of the cost of randomUUID() per request (docs/BENCHMARKS.md, issue #16). Request ids
// only correlate log lines and answers; nothing relies on them being unguessable.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let prefix = randomUUID().slice(0, 28);
let count = 0;

function nextId(): string {
  count = (count + 1) >>> 0;
  if (count === 0) prefix = randomUUID().slice(0, 28);
  return prefix + HEX[count >>> 24] + HEX[(count >>> 16) & 255] + HEX[(count >>> 8) & 255] + HEX[count & 255];
}

/**
 * Reuses the caller's `x-request-id` when it is a sane token (so one id follows a request across
 * services), otherwise makes one. Anything odd is replaced rather than echoed into logs.
 */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && ACCEPTABLE.test(given) ? given : nextId();
}
