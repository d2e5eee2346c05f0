import type { CachedOptions } from '../cache/cached-options';
import { projectPartTag } from '../projects/project.cache';

// A project's activities are one part of it (see projectPartTag): every append makes the
// project's activity lists stale, and so does deleting the project.
const activitiesOf = (projectId: string) => projectPartTag('activities', projectId);

/** The cached reads of activities and the tags whose invalidation makes each stale. */
export const ActivityReads = {
  // Short TTL: agents append all the time, and every append invalidates the project's lists anyway.
  list: { ttlMs: 2_000, tags: ({ params }) => [activitiesOf(params.id)] },
} satisfies Record<string, CachedOptions>;

/** The tags each write of activities invalidates. */
export const ActivityWrites = {
  appended: (projectId: string) => [activitiesOf(projectId)],
};
