import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './error-body';

const ANSWERS: Readonly<Record<string, [status: number, message: string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS): send it faster'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are larger than the server accepts'],
};

/**
 * What Node's HTTP server refuses before Fastify has a request (a body or headers that did not
 * arrive in time, headers past their size, a malformed request) is answered in the one error shape
 * with a request id, as every other refusal is, where Fastify's default answer has neither; the
 * connection is then closed. A 408 is an answer of the operation whose body was too slow, and the
 * OpenAPI document declares it like any other error.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = ANSWERS[err.code ?? ''] ?? [400, 'Malformed HTTP request'];
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(status, message, requestId));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
