/**
 * The headers of the app's cache hit besides those Node and Fastify add (content-type, -length,
 * date, connection, keep-alive), with values of the same length; the cached-get scenario fails
 * when the app's set of names differs from this one.
 */
export const APP_HIT_HEADERS: Record<string, string> = {
  'x-request-id': '06fe2534-db7d-43bc-a4c1-ad9700000005',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'ratelimit-limit': '10000000',
  'ratelimit-remaining': '9999997',
  'ratelimit-reset': '1',
  'x-ratelimit-limit': '10000000',
  'x-ratelimit-remaining': '9999997',
  'x-ratelimit-reset': '1',
  'x-cache': 'HIT',
  etag: '"gUlMVjO082KpKChqyNxN9Q"',
  'cache-control': 'private, no-cache',
};
