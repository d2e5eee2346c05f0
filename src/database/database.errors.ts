/** No pooled connection became free within `DB_POOL_TIMEOUT_MS`. */
export class PoolTimeoutError extends Error {
  constructor(readonly timeoutMs: number, options?: ErrorOptions) {
    super(`no database connection became available within ${timeoutMs} ms`, options);
    this.name = 'PoolTimeoutError';
  }
}

/**
 * Error-shaped, whatever realm made it: errors raised inside Node's own modules (a refused socket)
 * fail `instanceof Error` under a VM sandbox such as Jest's, so the shape is what counts.
 */
export function isErrorLike(err: unknown): err is Error & { code?: unknown } {
  return typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string';
}

export interface DbErrorAnswer {
  readonly status: number;
  readonly message: string;
}

// SQLSTATE classes and codes, https://www.postgresql.org/docs/current/errcodes-appendix.html
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const CHECK_VIOLATION = '23514';
const NOT_NULL_VIOLATION = '23502';
const QUERY_CANCELED = '57014';
const INVALID_TEXT_REPRESENTATION = '22P02';
// A NUL byte in text, or text the server's encoding cannot hold.
const CHARACTER_NOT_IN_REPERTOIRE = '22021';
const UNTRANSLATABLE_CHARACTER = '22P05';
// Validators count characters differently from varchar(n) (e.g. variation selectors).
const STRING_TOO_LONG = '22001';
export const UNIQUE_VIOLATION_CODE = UNIQUE_VIOLATION;
export const FOREIGN_KEY_VIOLATION_CODE = FOREIGN_KEY_VIOLATION;

/** The SQLSTATE of a pg error or of TypeORM's QueryFailedError wrapping one. */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
const CONNECTION_ERROR_CLASSES = ['08', '53', '57P'];
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'Client was closed',
];

/**
 * Maps a database error to an HTTP answer that never carries SQL or parameters, or undefined when
 * the error is not a database error. Works on TypeORM's QueryFailedError (which copies the
 * driver's fields) as well as on raw pg errors.
 */
export function classifyDbError(err: unknown): DbErrorAnswer | undefined {
  if (err instanceof PoolTimeoutError) {
    return { status: 503, message: 'The database is busy: no connection became available in time. Retry shortly.' };
  }
  if (!isErrorLike(err)) return undefined;
  const driver = (err as { driverError?: unknown }).driverError;
  const source = (isErrorLike(driver) ? driver : err) as Error & { code?: string; constraint?: string };
  const code = typeof source.code === 'string' ? source.code : undefined;

  switch (code) {
    case UNIQUE_VIOLATION:
      return { status: 409, message: 'A resource with the same unique value already exists.' };
    case FOREIGN_KEY_VIOLATION:
      return { status: 409, message: 'The resource refers to, or is referred to by, a resource that does not exist.' };
    case CHECK_VIOLATION:
    case NOT_NULL_VIOLATION:
    case INVALID_TEXT_REPRESENTATION:
    case CHARACTER_NOT_IN_REPERTOIRE:
    case UNTRANSLATABLE_CHARACTER:
    case STRING_TOO_LONG:
      return { status: 400, message: 'The request holds a value the database does not accept.' };
    case QUERY_CANCELED:
      return { status: 503, message: 'The database took too long to answer (statement timeout). Retry shortly.' };
  }
  // Any other data exception (bad time zone offset, out-of-range date, ...): the input's fault.
  if (code?.startsWith('22')) {
    return { status: 400, message: 'The request holds a value the database does not accept.' };
  }
  if (isConnectionError(source, code)) {
    return { status: 503, message: 'The database is unavailable. Retry shortly.' };
  }
  if (err.name === 'QueryFailedError') {
    return { status: 500, message: 'The database could not complete the request.' };
  }
  return undefined;
}

/** True when the connection failed or could not be had, as opposed to the statement being refused. */
export function isConnectionError(err: unknown, code = (err as { code?: unknown })?.code): boolean {
  if (err instanceof PoolTimeoutError) return true;
  if (!isErrorLike(err)) return false;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    if (CONNECTION_ERROR_CLASSES.some((prefix) => code.startsWith(prefix))) return true;
  }
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/**
 * The database could not answer at all: no connection to be had (pool timeout, server down) or
 * the statement timed out. The request itself may be fine; an older answer may stand in for it.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isConnectionError(err) || sqlState(err) === QUERY_CANCELED;
}
