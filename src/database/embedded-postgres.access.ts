import { execFileSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, parse, relative, sep } from 'node:path';
import { EmbeddedPostgresSetupError } from './embedded-postgres.errors';

/** Who PostgreSQL runs as when the app runs as root. */
export interface SystemUser {
  readonly uid: number;
  readonly gid: number;
}

export interface ClosedFolder {
  readonly folder: string;
  /** The `chmod` mode that opens it to that user: its owner, group or other bits, whichever apply. */
  readonly grant: 'u+x' | 'g+x' | 'o+x';
}

type FolderStat = { readonly mode: number; readonly uid: number; readonly gid: number };

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

/**
 * Folders on the way from `/` down to `path` (included) that `user` cannot enter. The package
 * spawns PostgreSQL with the user's uid and primary gid only (libuv drops supplementary groups),
 * so exactly one of the owner, group or other bits applies. A user not created yet owns nothing
 * and is in no group: the other bits apply.
 */
export function closedFolders(path: string, user: SystemUser | undefined, stat: (folder: string) => FolderStat = statSync): ClosedFolder[] {
  const closed: ClosedFolder[] = [];
  for (const folder of foldersDownTo(path)) {
    const { mode, uid, gid } = stat(folder);
    const [bit, grant] = user?.uid === uid ? ([0o100, 'u+x'] as const) : user?.gid === gid ? ([0o010, 'g+x'] as const) : ([0o001, 'o+x'] as const);
    if ((mode & bit) === 0) closed.push({ folder, grant });
  }
  return closed;
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must reach both its data folder
 * and its binaries under node_modules; otherwise initdb dies with a bare `spawn ... EACCES`.
 */
export async function assertPostgresUserCanReach(clusterDir: string, user: SystemUser | undefined): Promise<void> {
  const binaries = dirname(await postgresBinary());
  const targets = [
    { what: `its data folder ${clusterDir}`, closed: closedOnBothWays(dirname(clusterDir), user) },
    { what: `its binaries ${binaries}`, closed: closedOnBothWays(binaries, user) },
  ].filter((t) => t.closed.length > 0);
  if (targets.length === 0) return;

  const closed = new Map(targets.flatMap((t) => t.closed).map((c) => [c.folder, c.grant]));
  const chmod = [...new Set(closed.values())]
    .map((grant) => `chmod ${grant} ${[...closed].filter(([, g]) => g === grant).map(([folder]) => folder).join(' ')}`)
    .join(' && ');
  throw new EmbeddedPostgresSetupError(
    `embedded PostgreSQL cannot start: the "${POSTGRES_USER}" system user cannot enter ${[...closed.keys()].join(', ')} (on the way to ${targets.map((t) => t.what).join(' and ')}). ` +
      `PostgreSQL refuses to run as root, so it runs as that user, which needs execute (x) permission on every folder above its data and binaries. ` +
      `Ways out: move the project to a folder that is not under a private one (such as /root or a mktemp -d folder); or run \`${chmod}\`; or set DATABASE_URL to an external PostgreSQL.`,
  );
}

/** The path as written and its real path (after symlinks) must both be passable. */
function closedOnBothWays(path: string, user: SystemUser | undefined): ClosedFolder[] {
  return [...closedFolders(path, user), ...closedFolders(realpathSync(path), user)];
}

function foldersDownTo(path: string): string[] {
  const { root } = parse(path);
  const folders = [root];
  for (const part of relative(root, path).split(sep).filter(Boolean)) folders.push(join(folders[folders.length - 1], part));
  return folders;
}

/** Where embedded-postgres finds the binaries: its per-platform package, which exports their paths. */
async function postgresBinary(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  return binaries.postgres;
}
