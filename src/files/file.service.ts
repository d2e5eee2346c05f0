import { BadRequestException, ConflictException, Injectable, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import { CacheService } from '../cache/cache.service';
import { AppConfig } from '../config/app-config';
import { withConstraints } from '../database/constraint-answers';
import { CursorCodec, Page, toPage } from '../http/cursor';
import { Timed } from '../monitoring/performance-monitor';
import { ProjectService } from '../projects/project.service';
import { FileWrites } from './file.cache';
import { CreateFileBody, FileDto, FileSummaryDto, ListFilesQuery, UpdateFileBody } from './file.dto';
import type { FileSummaryRow } from './file.entity';
import { toFileDto, toFileSummaryDto } from './file.mapper';
import { FileChanges, FileRepository } from './file.repository';

const NOT_FOUND = 'File not found';
const PROJECT_NOT_FOUND = 'Project not found';

@Injectable()
export class FileService {
  constructor(
    private readonly files: FileRepository,
    private readonly projects: ProjectService,
    private readonly cursors: CursorCodec,
    private readonly config: AppConfig,
    private readonly cache: CacheService,
  ) {}

  async create(user: AuthUser, projectId: string, body: CreateFileBody): Promise<FileDto> {
    const sizeBytes = this.sizeOf(body.content);
    const file = { path: body.path, content: body.content, sizeBytes, language: body.language ?? null };
    await this.projects.requireOwned(user, projectId);
    const row = await withConstraints(this.files.insert(projectId, file), {
      unique: () => pathTaken(body.path),
      // The project was deleted between the ownership check and the insert.
      foreignKey: () => new NotFoundException(PROJECT_NOT_FOUND),
    });
    await this.cache.invalidate(FileWrites.changed(projectId));
    return toFileDto(row);
  }

  @Timed('files.list')
  async list(user: AuthUser, projectId: string, query: ListFilesQuery): Promise<Page<FileSummaryDto>> {
    const prefix = query.prefix ?? '';
    // The scope ties a cursor to this project's list with this prefix.
    const scope = `files:${projectId}:${prefix}`;
    const after = query.cursor === undefined ? undefined : this.cursors.decode(query.cursor, scope).key;
    await this.projects.requireOwned(user, projectId);
    const rows = await this.files.findPage(projectId, query.limit, prefix, after);
    return toPage(rows, query.limit, toFileSummaryDto, (r: FileSummaryRow) => ({ key: r.path, id: r.id }), (p) =>
      this.cursors.encode(p, scope),
    );
  }

  async get(user: AuthUser, projectId: string, id: string): Promise<FileDto> {
    await this.projects.requireOwned(user, projectId);
    return toFileDto(this.found(await this.files.find(projectId, id)));
  }

  async update(user: AuthUser, projectId: string, id: string, body: UpdateFileBody): Promise<FileDto> {
    if (body.path === undefined && body.content === undefined && body.language === undefined) {
      throw new BadRequestException('body: give at least one of path, content, language');
    }
    const changes: FileChanges = { path: body.path, content: body.content, language: body.language };
    if (body.content !== undefined) changes.sizeBytes = this.sizeOf(body.content);
    await this.projects.requireOwned(user, projectId);
    const row = this.found(await withConstraints(this.files.update(projectId, id, changes), { unique: () => pathTaken(body.path) }));
    await this.cache.invalidate(FileWrites.changed(projectId));
    return toFileDto(row);
  }

  async remove(user: AuthUser, projectId: string, id: string): Promise<void> {
    await this.projects.requireOwned(user, projectId);
    if (!(await this.files.delete(projectId, id))) throw new NotFoundException(NOT_FOUND);
    await this.cache.invalidate(FileWrites.changed(projectId));
  }

  /** UTF-8 bytes, as stored and as counted against FILE_MAX_BYTES (not UTF-16 string length). */
  private sizeOf(content: string): number {
    const bytes = Buffer.byteLength(content, 'utf8');
    const max = this.config.fileMaxBytes;
    if (bytes > max) throw new PayloadTooLargeException(`content: is ${bytes} bytes of UTF-8, over the limit of ${max} bytes`);
    return bytes;
  }

  private found<T>(row: T | undefined): T {
    if (row === undefined) throw new NotFoundException(NOT_FOUND);
    return row;
  }
}

function pathTaken(path: string | undefined): ConflictException {
  return new ConflictException(`path: this project already has a file at ${JSON.stringify(path)}`);
}
