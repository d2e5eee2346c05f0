import type { CachedOptions } from '../cache/cached-options';
import { projectPartTag } from '../projects/project.cache';

// A project's files are one part of it (see projectPartTag): any write to one of them makes every
// cached read of its files stale, and so does deleting the project.
const filesOf = (projectId: string) => projectPartTag('files', projectId);

/** The cached reads of files and the tags whose invalidation makes each stale. */
export const FileReads = {
  list: { tags: ({ params }) => [filesOf(params.id)] },
  get: { tags: ({ params }) => [filesOf(params.id)] },
} satisfies Record<string, CachedOptions>;

/** The tags each write of files invalidates. */
export const FileWrites = {
  changed: (projectId: string) => [filesOf(projectId)],
};
