import { randomUUID } from 'node:crypto';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ActivityReads } from '../../src/activities/activity.cache';
import { ActivityService } from '../../src/activities/activity.service';
import { CacheService } from '../../src/cache/cache.service';
import { FileReads } from '../../src/files/file.cache';
import { FileService } from '../../src/files/file.service';
import { ProjectReads } from '../../src/projects/project.cache';
import { ProjectService } from '../../src/projects/project.service';
import { anActivity, aFile, aProject, aUser, TestUser } from '../support/factories';
import { bootApp, TestApp } from '../support/test-app';

// Service-level tests on the real database (Immich's "medium tests"): the rules the e2e files
// reach only through HTTP, called on the services themselves, with no HTTP cache in between.
const NOT_FOUND = expect.any(NotFoundException);
const REFUSED_CURSOR = expect.any(BadRequestException);

// A page size of 1 leaves a nextCursor whenever there are two rows.
const page = <T extends object>(query: T) => ({ limit: 1, ...query }) as never;

describe('service rules (real PostgreSQL)', () => {
  let app: TestApp;
  let projects: ProjectService;
  let files: FileService;
  let activities: ActivityService;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    app = await bootApp();
    projects = app.app.get(ProjectService);
    files = app.app.get(FileService);
    activities = app.app.get(ActivityService);
    alice = await aUser(app.app);
    bob = await aUser(app.app);
  });

  afterAll(async () => {
    await app.close();
  });

  const aliceProject = () => projects.create(alice, aProject() as never);

  describe('ownership', () => {
    it("treats another user's project as not found, for reads and writes, and leaves it unchanged", async () => {
      const project = await aliceProject();

      await expect(projects.get(bob, project.id)).rejects.toEqual(NOT_FOUND);
      await expect(projects.update(bob, project.id, { name: 'bob was here' })).rejects.toEqual(NOT_FOUND);
      await expect(projects.remove(bob, project.id)).rejects.toEqual(NOT_FOUND);
      expect(await projects.updateStatus(bob, [project.id], 'archived')).toEqual({ updated: 0 });
      expect((await projects.batchGet(bob, [project.id])).items).toEqual([]);

      expect(await projects.get(alice, project.id)).toMatchObject({ name: project.name, status: project.status });
    });

    it("treats another user's file as not found on every file operation", async () => {
      const project = await aliceProject();
      const file = await files.create(alice, project.id, aFile() as never);

      await expect(files.get(bob, project.id, file.id)).rejects.toEqual(NOT_FOUND);
      await expect(files.list(bob, project.id, page({}))).rejects.toEqual(NOT_FOUND);
      await expect(files.create(bob, project.id, aFile() as never)).rejects.toEqual(NOT_FOUND);
      await expect(files.update(bob, project.id, file.id, { content: 'bob was here' })).rejects.toEqual(NOT_FOUND);
      await expect(files.remove(bob, project.id, file.id)).rejects.toEqual(NOT_FOUND);

      expect(await files.get(alice, project.id, file.id)).toEqual(file);
    });

    it("does not reach alice's file through bob's own project", async () => {
      const file = await files.create(alice, (await aliceProject()).id, aFile() as never);
      const bobs = await projects.create(bob, aProject() as never);

      await expect(files.get(bob, bobs.id, file.id)).rejects.toEqual(NOT_FOUND);
      await expect(files.remove(bob, bobs.id, file.id)).rejects.toEqual(NOT_FOUND);
    });

    it("treats another user's activities as not found and records none for them", async () => {
      const project = await aliceProject();
      await activities.create(alice, project.id, anActivity() as never);

      await expect(activities.list(bob, project.id, page({ order: 'desc' }))).rejects.toEqual(NOT_FOUND);
      await expect(activities.create(bob, project.id, anActivity() as never)).rejects.toEqual(NOT_FOUND);
      await expect(activities.createMany(bob, project.id, [anActivity() as never])).rejects.toEqual(NOT_FOUND);

      const [{ count }] = await app.app.get(DataSource).query('SELECT count(*)::int AS count FROM agent_activities WHERE project_id = $1', [project.id]);
      expect(count).toBe(1);
    });
  });

  describe('cache invalidation', () => {
    it('forgets a checked ownership once the project is deleted', async () => {
      const project = await aliceProject();
      await files.create(alice, project.id, aFile() as never);
      await files.list(alice, project.id, page({}));

      await projects.remove(alice, project.id);

      await expect(files.list(alice, project.id, page({}))).rejects.toEqual(NOT_FOUND);
      await expect(activities.list(alice, project.id, page({ order: 'desc' }))).rejects.toEqual(NOT_FOUND);
    });

    it('makes stale every cached read a write affects, and only those of the parts it changed', async () => {
      const project = await aliceProject();
      const ctx = (query: Record<string, unknown> = {}) => ({ params: { id: project.id }, query, user: alice });
      const reads = {
        'project list': ProjectReads.list.tags(ctx()),
        project: ProjectReads.get.tags(ctx()),
        'project with files': ProjectReads.get.tags(ctx({ include: 'files' })),
        'project with activities': ProjectReads.get.tags(ctx({ include: 'activities' })),
        'file list': FileReads.list.tags(ctx()),
        file: FileReads.get.tags(ctx()),
        'activity list': ActivityReads.list.tags(ctx()),
      };
      const invalidate = jest.spyOn(app.app.get(CacheService), 'invalidate');
      // A cached answer is stale once any one of its tags has been invalidated.
      const staleAfter = async (write: () => Promise<unknown>) => {
        invalidate.mockClear();
        await write();
        const bumped = new Set(invalidate.mock.calls.flatMap(([tags]) => tags));
        return Object.entries(reads)
          .filter(([, tags]) => tags.some((tag) => bumped.has(tag)))
          .map(([read]) => read);
      };

      try {
        const file = await files.create(alice, project.id, aFile() as never);
        expect(await staleAfter(() => files.create(alice, project.id, aFile() as never))).toEqual(['project with files', 'file list', 'file']);
        expect(await staleAfter(() => files.update(alice, project.id, file.id, { content: 'new' }))).toEqual(['project with files', 'file list', 'file']);
        expect(await staleAfter(() => files.remove(alice, project.id, file.id))).toEqual(['project with files', 'file list', 'file']);
        expect(await staleAfter(() => activities.create(alice, project.id, anActivity() as never))).toEqual(['project with activities', 'activity list']);
        expect(await staleAfter(() => projects.update(alice, project.id, { name: 'renamed' }))).toEqual([
          'project list',
          'project',
          'project with files',
          'project with activities',
        ]);
        expect(await staleAfter(() => projects.remove(alice, project.id))).toEqual(Object.keys(reads));
      } finally {
        invalidate.mockRestore();
      }
    });
  });

  describe('cursor scoping', () => {
    it("refuses a cursor of alice's project list in bob's", async () => {
      await aliceProject();
      await aliceProject();
      const { nextCursor } = await projects.list(alice, page({}));

      await expect(projects.list(bob, page({ cursor: nextCursor }))).rejects.toEqual(REFUSED_CURSOR);
      expect((await projects.list(alice, page({ cursor: nextCursor }))).items).toHaveLength(1);
    });

    it("refuses a cursor of one project's file list in another project's, and with another prefix", async () => {
      const [one, two] = [await aliceProject(), await aliceProject()];
      for (const path of ['a.txt', 'b.txt']) await files.create(alice, one.id, aFile({ path }) as never);
      const { nextCursor } = await files.list(alice, one.id, page({}));

      await expect(files.list(alice, two.id, page({ cursor: nextCursor }))).rejects.toEqual(REFUSED_CURSOR);
      await expect(files.list(alice, one.id, page({ cursor: nextCursor, prefix: 'a' }))).rejects.toEqual(REFUSED_CURSOR);
      expect((await files.list(alice, one.id, page({ cursor: nextCursor }))).items.map((f) => f.path)).toEqual(['b.txt']);
    });

    it('refuses a cursor of the file list in the activity list, and one of another order', async () => {
      const project = await aliceProject();
      for (const path of ['a.txt', 'b.txt']) await files.create(alice, project.id, aFile({ path }) as never);
      await activities.createMany(alice, project.id, [anActivity(), anActivity()] as never);
      const filesCursor = (await files.list(alice, project.id, page({}))).nextCursor;
      const descCursor = (await activities.list(alice, project.id, page({ order: 'desc' }))).nextCursor;

      await expect(activities.list(alice, project.id, page({ order: 'desc', cursor: filesCursor }))).rejects.toEqual(REFUSED_CURSOR);
      await expect(activities.list(alice, project.id, page({ order: 'asc', cursor: descCursor }))).rejects.toEqual(REFUSED_CURSOR);
      expect((await activities.list(alice, project.id, page({ order: 'desc', cursor: descCursor }))).items).toHaveLength(1);
    });

    it('answers not found, not a page, for a cursor of a project bob does not own', async () => {
      const project = await aliceProject();
      await activities.createMany(alice, project.id, [anActivity(), anActivity()] as never);
      const { nextCursor } = await activities.list(alice, project.id, page({ order: 'desc' }));

      await expect(activities.list(bob, project.id, page({ order: 'desc', cursor: nextCursor }))).rejects.toEqual(NOT_FOUND);
      await expect(files.list(bob, randomUUID(), page({}))).rejects.toEqual(NOT_FOUND);
    });
  });
});
