import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../access/auth.decorators';
import type { AuthUser } from '../access/auth.types';
import { Cached } from '../cache/cached.decorator';
import { ApiErrors } from '../http/api-errors.decorator';
import { UuidParam } from '../http/uuid-param';
import { ProjectReads } from './project.cache';
import {
  BatchGetBody,
  BulkStatusBody,
  BulkStatusResponse,
  CreateProjectBody,
  GetProjectQuery,
  INCLUDES,
  ListProjectsQuery,
  ProjectDetailDto,
  ProjectDto,
  ProjectList,
  ProjectPage,
  UpdateProjectBody,
} from './project.dto';
import { ProjectService } from './project.service';

@ApiTags('projects')
@Controller('api/projects')
export class ProjectController {
  constructor(private readonly projects: ProjectService) {}

  @Post()
  @ApiOperation({ operationId: 'createProject', summary: 'Create a project' })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiErrors()
  create(@CurrentUser() user: AuthUser, @Body() body: CreateProjectBody): Promise<ProjectDto> {
    return this.projects.create(user, body);
  }

  @Get()
  @Cached(ProjectReads.list)
  @ApiOperation({ operationId: 'listProjects', summary: 'List your projects, newest first (keyset pagination)' })
  @ApiOkResponse({ type: ProjectPage })
  @ApiErrors()
  list(@CurrentUser() user: AuthUser, @Query() query: ListProjectsQuery): Promise<ProjectPage> {
    return this.projects.list(user, query);
  }

  @Post('batch-get')
  @HttpCode(200)
  @ApiOperation({ operationId: 'batchGetProjects', summary: 'Your projects among up to 100 ids, in one query' })
  @ApiOkResponse({ type: ProjectList })
  @ApiErrors()
  batchGet(@CurrentUser() user: AuthUser, @Body() body: BatchGetBody): Promise<ProjectList> {
    return this.projects.batchGet(user, body.ids);
  }

  @Patch('status')
  @ApiOperation({ operationId: 'updateProjectStatuses', summary: 'Set the status of up to 1000 of your projects in one statement' })
  @ApiOkResponse({ type: BulkStatusResponse })
  @ApiErrors()
  updateStatus(@CurrentUser() user: AuthUser, @Body() body: BulkStatusBody): Promise<BulkStatusResponse> {
    return this.projects.updateStatus(user, body.ids, body.status);
  }

  @Get(':id')
  @Cached(ProjectReads.get)
  @ApiOperation({ operationId: 'getProject', summary: 'A project; include=files,activities adds its file list and latest activities' })
  @ApiOkResponse({ type: ProjectDetailDto })
  @ApiQuery({
    name: 'include',
    required: false,
    style: 'form',
    explode: false,
    schema: { type: 'array', items: { type: 'string', enum: [...INCLUDES] }, maxItems: INCLUDES.length },
    description: 'what to add: files (up to 100, by path), activities (the latest 20); comma-separated or repeated',
  })
  @ApiErrors(404)
  get(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Query() query: GetProjectQuery): Promise<ProjectDetailDto> {
    return this.projects.get(user, id, query.include);
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateProject', summary: 'Change name, description or status' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiErrors(404)
  update(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Body() body: UpdateProjectBody): Promise<ProjectDto> {
    return this.projects.update(user, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteProject', summary: 'Delete a project with its files and activities' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(404)
  async remove(@CurrentUser() user: AuthUser, @UuidParam('id') id: string): Promise<void> {
    await this.projects.remove(user, id);
  }
}
