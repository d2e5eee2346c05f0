import { DataSource } from 'typeorm';

/** A timestamp as the API writes it: UTC, microseconds, like PostgreSQL's timestamptz. */
export const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

/** The one error shape the global exception filter gives. */
export const ERROR_SHAPE = { statusCode: expect.any(Number), error: expect.any(String), message: expect.any(String), requestId: expect.any(String) };

export const ERROR_KEYS = ['error', 'message', 'requestId', 'statusCode'];

// SQL keywords, driver class names or stack frames in an answer would tell an attacker about the internals.
export const INTERNALS = /\b(SELECT|INSERT|UPDATE|DELETE)\b|QueryFailedError|node_modules|\bat .+:\d+:\d+|\.ts:\d+/;

/** Checks every error answer the same way: the one shape, echoing the request id, nothing internal. */
export function expectCleanError(res: { statusCode: number; body: string; headers: Record<string, unknown>; json(): any }): void {
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
  expect(body.statusCode).toBe(res.statusCode);
  expect(body.requestId).toBe(res.headers['x-request-id']);
  expect(typeof body.message).toBe('string');
  expect(body.message).not.toMatch(INTERNALS);
}

/**
 * A digest of every row of every table: "the database is unchanged" compares two of these.
 * api_tokens.last_used_at is left out: a token's use is recorded by design whenever the token
 * cache misses, and says nothing about what a request changed.
 */
export async function dataDigest(db: DataSource): Promise<Record<string, string>> {
  const [row] = await db.query(`
    SELECT (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM users t) AS users,
           (SELECT md5(coalesce(string_agg((t.id, t.user_id, t.token_hash, t.created_at, t.revoked_at)::text, ',' ORDER BY t.id), ''))
              FROM api_tokens t) AS api_tokens,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM projects t) AS projects,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM files t) AS files,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM agent_activities t) AS agent_activities`);
  return row;
}
