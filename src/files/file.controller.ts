import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../access/auth.decorators';
import type { AuthUser } from '../access/auth.types';
import { Cached } from '../cache/cached.decorator';
import { ApiErrors } from '../http/api-errors.decorator';
import { UuidParam } from '../http/uuid-param';
import { FileReads } from './file.cache';
import { CreateFileBody, FileDto, FilePage, ListFilesQuery, UpdateFileBody } from './file.dto';
import { FileService } from './file.service';

@ApiTags('files')
@Controller('api/projects/:id/files')
export class FileController {
  constructor(private readonly files: FileService) {}

  @Post()
  @ApiOperation({ operationId: 'createFile', summary: 'Add a file to your project' })
  @ApiCreatedResponse({ type: FileDto })
  @ApiErrors(404, 409)
  create(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Body() body: CreateFileBody): Promise<FileDto> {
    return this.files.create(user, id, body);
  }

  @Get()
  @Cached(FileReads.list)
  @ApiOperation({ operationId: 'listFiles', summary: "A project's files without content, in path (byte) order (keyset pagination)" })
  @ApiOkResponse({ type: FilePage })
  @ApiErrors(404)
  list(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Query() query: ListFilesQuery): Promise<FilePage> {
    return this.files.list(user, id, query);
  }

  @Get(':fileId')
  @Cached(FileReads.get)
  @ApiOperation({ operationId: 'getFile', summary: 'A file with its content' })
  @ApiOkResponse({ type: FileDto })
  @ApiErrors(404)
  get(@CurrentUser() user: AuthUser, @UuidParam('id', 'project id') id: string, @UuidParam('fileId') fileId: string): Promise<FileDto> {
    return this.files.get(user, id, fileId);
  }

  @Patch(':fileId')
  @ApiOperation({ operationId: 'updateFile', summary: 'Rename a file, or change its content or language' })
  @ApiOkResponse({ type: FileDto })
  @ApiErrors(404, 409)
  update(@CurrentUser() user: AuthUser, @UuidParam('id', 'project id') id: string, @UuidParam('fileId') fileId: string, @Body() body: UpdateFileBody): Promise<FileDto> {
    return this.files.update(user, id, fileId, body);
  }

  @Delete(':fileId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteFile', summary: 'Delete a file' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(404)
  async remove(@CurrentUser() user: AuthUser, @UuidParam('id', 'project id') id: string, @UuidParam('fileId') fileId: string): Promise<void> {
    await this.files.remove(user, id, fileId);
  }
}
