import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Reuses the caller's `x-request-id` when it is a sane token (so one id follows a request across
 * services), otherwise makes one. Anything odd is replaced rather than echoed into logs.
 */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && ACCEPTABLE.test(given) ? given : randomUUID();
}
