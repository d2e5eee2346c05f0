import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../access/auth.decorators';
import type { AuthUser } from '../access/auth.types';
import { Cached } from '../cache/cached.decorator';
import { ApiErrors } from '../http/api-errors.decorator';
import { UuidParam } from '../http/uuid-param';
import { ActivityReads } from './activity.cache';
import {
  ActivityDto,
  ActivityList,
  ActivityPage,
  CreateActivityBatchBody,
  CreateActivityBody,
  ListActivitiesQuery,
} from './activity.dto';
import { ActivityService } from './activity.service';

@ApiTags('activities')
@Controller('api/projects/:id/activities')
export class ActivityController {
  constructor(private readonly activities: ActivityService) {}

  @Post()
  @ApiOperation({ operationId: 'createActivity', summary: 'Record an agent activity; answered once it is committed' })
  @ApiCreatedResponse({ type: ActivityDto })
  @ApiErrors(404)
  create(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Body() body: CreateActivityBody): Promise<ActivityDto> {
    return this.activities.create(user, id, body);
  }

  @Post('batch')
  @ApiOperation({ operationId: 'createActivities', summary: 'Record up to 1000 activities, all or none, answered in order once committed' })
  @ApiCreatedResponse({ type: ActivityList })
  @ApiErrors(404)
  createMany(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Body() body: CreateActivityBatchBody): Promise<ActivityList> {
    return this.activities.createMany(user, id, body.items);
  }

  @Get()
  @Cached(ActivityReads.list)
  @ApiOperation({ operationId: 'listActivities', summary: "A project's activities, newest first unless order=asc (keyset pagination)" })
  @ApiOkResponse({ type: ActivityPage })
  @ApiErrors(404)
  list(@CurrentUser() user: AuthUser, @UuidParam('id') id: string, @Query() query: ListActivitiesQuery): Promise<ActivityPage> {
    return this.activities.list(user, id, query);
  }
}
