import type { CacheSpec } from '../cache/cache.service';
import type { CachedOptions } from '../cache/cached-options';
import { INCLUDES, type Include } from './project.dto';

// Ids are UUIDs, which PostgreSQL matches in any letter case: tags must not tell the cases apart,
// or a write through /X would leave a cached read of /x stale.
const project = (id: string) => `project:${id.toLowerCase()}`;
const projectsOf = (userId: string) => `projects-of:${userId}`;

/**
 * A part of a project that another feature lists and a project read may include (include=files,
 * activities). That feature tags its reads with it and invalidates it when it writes into the
 * project; deleting the project invalidates every part.
 */
export const projectPartTag = (part: Include, projectId: string) => `${part}-of:${projectId.toLowerCase()}`;

/** The cached reads of projects and the tags whose invalidation makes each stale. */
export const ProjectReads = {
  list: { tags: ({ user }) => [projectsOf(user.id)] },
  /** Stale after a write to the project, or to the parts its include= adds. */
  get: {
    tags: ({ params, query }) => {
      // Worked out on every cache hit: a plain read (no include=) builds one tag and nothing else.
      if (query.include === undefined) return [project(params.id)];
      const include = String(query.include);
      return [project(params.id), ...INCLUDES.filter((part) => include.includes(part)).map((part) => projectPartTag(part, params.id))];
    },
  },
} satisfies Record<string, CachedOptions>;

/** The tags each write of projects invalidates. */
export const ProjectWrites = {
  created: (userId: string) => [projectsOf(userId)],
  updated: (userId: string, ids: readonly string[]) => [projectsOf(userId), ...ids.map(project)],
  deleted: (userId: string, id: string) => [project(id), projectsOf(userId), ...INCLUDES.map((part) => projectPartTag(part, id))],
};

/**
 * "User U owns project P", so writes into a project skip an ownership query. Ownership never
 * moves; only deleting the project (which invalidates its tag) ends it. Entries are under 1 kB by
 * the estimate: an eighth of the default CACHE_L1_MAX_BYTES holds about CACHE_L1_MAX_ENTRIES.
 */
export const OwnershipCache = {
  spec: { name: 'ownership', l1Share: 1 / 8, sizeOf: () => 0 } satisfies CacheSpec<true>,
  key: (userId: string, projectId: string) => `${userId}:${projectId.toLowerCase()}`,
  tags: (projectId: string) => [project(projectId)],
};
