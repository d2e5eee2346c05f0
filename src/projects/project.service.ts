import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import { CacheService } from '../cache/cache.service';
import type { TieredCache } from '../cache/tiered-cache';
import { CursorCodec, Page, toPage } from '../http/cursor';
import { Timed } from '../monitoring/performance-monitor';
import { OwnershipCache, ProjectWrites } from './project.cache';
import {
  BulkStatusResponse,
  CreateProjectBody,
  Include,
  ListProjectsQuery,
  ProjectDetailDto,
  ProjectDto,
  ProjectList,
  UpdateProjectBody,
} from './project.dto';
import type { ProjectRow, ProjectStatus } from './project.entity';
import { toProjectDetailDto, toProjectDto } from './project.mapper';
import { ProjectRepository } from './project.repository';

const NOT_FOUND = 'Project not found';

@Injectable()
export class ProjectService {
  private readonly ownership: TieredCache<true>;

  constructor(
    private readonly projects: ProjectRepository,
    private readonly cursors: CursorCodec,
    private readonly cache: CacheService,
  ) {
    this.ownership = cache.create(OwnershipCache.spec);
  }

  async create(user: AuthUser, body: CreateProjectBody): Promise<ProjectDto> {
    const row = await this.projects.insert(user.id, body.name, body.description ?? null, body.status ?? 'active');
    await this.cache.invalidate(ProjectWrites.created(user.id));
    return toProjectDto(row);
  }

  @Timed('projects.get')
  async get(user: AuthUser, id: string, include: Include[] = []): Promise<ProjectDetailDto> {
    if (include.length === 0) return toProjectDto(await this.found(this.projects.findOwned(user.id, id)));
    const row = await this.projects.findOwnedWithIncludes(user.id, id, include.includes('files'), include.includes('activities'));
    return toProjectDetailDto(await this.found(Promise.resolve(row)));
  }

  /**
   * The one ownership check of what lies inside a project: files and activities call it before
   * they touch one, and then query by project id alone. Another user's project answers 404,
   * exactly like a missing one.
   */
  async requireOwned(user: AuthUser, projectId: string): Promise<void> {
    const key = OwnershipCache.key(user.id, projectId);
    const tags = OwnershipCache.tags(projectId);
    if (this.ownership.peek(key, tags)) return;
    const { value } = await this.ownership.getOrLoad(key, tags, async () =>
      (await this.projects.existsOwned(user.id, projectId)) ? true : undefined,
    );
    if (!value) throw new NotFoundException(NOT_FOUND);
  }

  @Timed('projects.list')
  async list(user: AuthUser, query: ListProjectsQuery): Promise<Page<ProjectDto>> {
    // The scope ties a cursor to this user's list with this filter.
    const scope = `projects:${user.id}:${query.status ?? ''}`;
    const after = query.cursor === undefined ? undefined : this.cursors.decode(query.cursor, scope);
    const rows = await this.projects.findPage(user.id, query.limit, query.status, after);
    return toPage(rows, query.limit, toProjectDto, (r: ProjectRow) => ({ key: r.createdAt, id: r.id }), (p) =>
      this.cursors.encode(p, scope),
    );
  }

  async batchGet(user: AuthUser, ids: string[]): Promise<ProjectList> {
    const rows = await this.projects.findManyOwned(user.id, [...new Set(ids)]);
    return { items: rows.map(toProjectDto) };
  }

  async update(user: AuthUser, id: string, body: UpdateProjectBody): Promise<ProjectDto> {
    if (body.name === undefined && body.description === undefined && body.status === undefined) {
      throw new BadRequestException('body: give at least one of name, description, status');
    }
    const row = await this.found(this.projects.updateOwned(user.id, id, body));
    await this.cache.invalidate(ProjectWrites.updated(user.id, [id]));
    return toProjectDto(row);
  }

  async updateStatus(user: AuthUser, ids: string[], status: ProjectStatus): Promise<BulkStatusResponse> {
    const changed = await this.projects.updateStatusOwned(user.id, [...new Set(ids)], status);
    // Only rows the write changed: ids of other users' or missing projects must not cost a tag version.
    if (changed.length > 0) await this.cache.invalidate(ProjectWrites.updated(user.id, changed));
    return { updated: changed.length };
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    if (!(await this.projects.deleteOwned(user.id, id))) throw new NotFoundException(NOT_FOUND);
    await this.cache.invalidate(ProjectWrites.deleted(user.id, id));
  }

  private async found<T>(row: Promise<T | undefined>): Promise<T> {
    const value = await row;
    if (value === undefined) throw new NotFoundException(NOT_FOUND);
    return value;
  }
}
