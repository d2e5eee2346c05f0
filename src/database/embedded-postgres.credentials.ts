import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EmbeddedPostgresSetupError } from './embedded-postgres.errors';

export interface RoleCredentials {
  readonly user: string;
  readonly password: string;
}

export interface EmbeddedPostgresCredentials {
  readonly superuser: RoleCredentials;
  /** Not a superuser: owns the app's database and nothing else. */
  readonly app: RoleCredentials;
}

export const SUPERUSER = 'postgres';
export const APP_ROLE = 'app';

/**
 * Beside the cluster's folder, not inside it: as root the cluster belongs to the `postgres` system
 * user, which must not read the app's secrets, and the file must be readable before the cluster
 * is up. `.data/postgres` gives `.data/postgres-credentials.json`.
 */
export function credentialsPath(clusterDir: string): string {
  return join(dirname(clusterDir), `${basename(clusterDir)}-credentials.json`);
}

export function newCredentials(): EmbeddedPostgresCredentials {
  return {
    superuser: { user: SUPERUSER, password: randomSecret() },
    app: { user: APP_ROLE, password: randomSecret() },
  };
}

/** undefined when the file does not exist (a cluster made before there was one, or none yet). */
export function readCredentials(clusterDir: string): EmbeddedPostgresCredentials | undefined {
  const file = credentialsPath(clusterDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = parseJson(text) as Partial<EmbeddedPostgresCredentials> | undefined;
  if (!isRole(parsed?.superuser, SUPERUSER) || !isRole(parsed?.app, APP_ROLE)) {
    throw new EmbeddedPostgresSetupError(
      `${file} is not a valid credentials file of the embedded PostgreSQL: restore it, or remove it together with ${clusterDir} (its data is lost) to start again, or set DATABASE_URL to an external PostgreSQL`,
    );
  }
  return { superuser: parsed!.superuser!, app: parsed!.app! };
}

/**
 * Owner-only (0600): it holds the superuser's password. Written to a new file and renamed over the
 * old one, so that a crash never leaves half a file or a moment with wider permissions.
 */
export function writeCredentials(clusterDir: string, credentials: EmbeddedPostgresCredentials): void {
  const file = credentialsPath(clusterDir);
  const temporary = `${file}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
}

// 192 bits; base64url needs no escaping in a connection URL.
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRole(value: unknown, user: string): value is RoleCredentials {
  const role = value as Partial<RoleCredentials> | undefined;
  return role?.user === user && typeof role.password === 'string' && role.password.length > 0;
}
