/**
 * A timestamptz column as RFC 3339 text in UTC with its microseconds. Repositories select
 * timestamps this way so keyset cursors compare exactly (a JS Date would drop the microseconds
 * and pages would skip or repeat rows) and responses need no re-formatting.
 */
export function isoTimestamp(column: string, alias: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "${alias}"`;
}

/** Fixed values (an enum's members, never input) as a SQL list for a CHECK (... IN (...)). */
export function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
}
