/**
 * Cache keys for responses: who is asking (user scope), which route template, which params and
 * which query, normalized so that `?b=1&a=2` and `?a=2&b=1` share an entry. The user scope comes
 * first: two users can never share an entry. The request pipeline has refused any query parameter
 * the route does not take before a key is built, and an entry is only ever stored for a request
 * that passed validation, so a key names validated values.
 */
export function responseKey(
  userScope: string,
  route: string,
  params: Readonly<Record<string, unknown>> | undefined,
  query: Readonly<Record<string, unknown>> | undefined,
): string {
  return `${userScope}|${route}|${normalize(params, canonicalParam)}|${normalize(query)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * PostgreSQL reads a UUID in any letter case as the same id, so `/files/ABC…` and `/files/abc…` are
 * one answer: one entry, or a client could store up to 2^32 copies of one file by flipping cases.
 */
function canonicalParam(value: unknown): unknown {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : value;
}

function normalize(values: Readonly<Record<string, unknown>> | undefined, canonical: (value: unknown) => unknown = (v) => v): string {
  if (!values) return '';
  const keys = Object.keys(values);
  if (keys.length === 0) return '';
  keys.sort();
  let out = '';
  for (const key of keys) {
    const value = canonical(values[key]);
    if (value === undefined) continue;
    // A repeated parameter stays repeated: `a=1&a=2` and `a=1,2` are different requests.
    for (const item of Array.isArray(value) ? value : [value]) {
      out += `${out ? '&' : ''}${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`;
    }
  }
  return out;
}

/** TTL with +/-10 % random jitter, so entries made together do not all expire together. */
export function jitteredTtl(ttlMs: number, random = Math.random): number {
  return Math.max(1, Math.round(ttlMs * (0.9 + random() * 0.2)));
}
