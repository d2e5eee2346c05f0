import { createHash } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { responseKey } from './cache-key';
import type { CachedResponse } from './cache.service';
import type { CachedOptions, CacheTagContext } from './cached-options';

const JSON_TYPE = 'application/json; charset=utf-8';

export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/**
 * The user's entry for this request, as both the early answer and the interceptor look it up:
 * the key (user scope, route template, params, normalized query) and the tags that invalidate it.
 */
export function entryOf(request: FastifyRequest, template: string, user: CacheTagContext['user'], options: CachedOptions): { key: string; tags: string[] } {
  const params = request.params as Record<string, string>;
  const query = request.query as Record<string, unknown>;
  return { key: responseKey(user.id, template, params, query), tags: options.tags({ params, query, user }) };
}

/**
 * Sets the headers of a cached answer and returns the body to send: the stored bytes, or nothing
 * for a 304 when the caller already holds this ETag.
 */
export function prepareCached(request: FastifyRequest, reply: FastifyReply, cached: CachedResponse, state: 'HIT' | 'MISS' | 'STALE'): string | undefined {
  reply.header('x-cache', state);
  // On the request span, where a trace viewer shows why this request made no query.
  trace.getActiveSpan()?.setAttribute('app.cache.result', state);
  reply.header('etag', cached.etag);
  // Per-user answers: shared caches on the way must not keep them.
  reply.header('cache-control', 'private, no-cache');
  if (request.headers['if-none-match'] === cached.etag) {
    // No payload at all rather than '': Fastify then sends neither Content-Length (an empty
    // string would be `0`, which is not the length of the representation) nor a body.
    reply.status(304);
    return undefined;
  }
  reply.header('content-type', JSON_TYPE);
  return cached.body;
}
