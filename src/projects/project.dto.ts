import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ANY_JSON } from '../http/any-json';
import { PageQuery } from '../http/pagination.dto';
import { PROJECT_STATUSES, type ProjectStatus } from './project.entity';

export const MAX_BATCH_GET = 100;
export const MAX_BULK_STATUS = 1000;
export const INCLUDES = ['files', 'activities'] as const;
export type Include = (typeof INCLUDES)[number];

export class CreateProjectBody {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Checkout redesign' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ type: String, maxLength: 10_000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ enum: PROJECT_STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

export class UpdateProjectBody {
  // Absent means "unchanged"; null is not a name (IsOptional would let it through).
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @ValidateIf((_o, value) => value !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: String, maxLength: 10_000, nullable: true, description: 'null clears it' })
  @ValidateIf((_o, value) => value !== null)
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ enum: PROJECT_STATUSES })
  @ValidateIf((_o, value) => value !== undefined)
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

export class ListProjectsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PROJECT_STATUSES })
  @IsOptional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

export class GetProjectQuery {
  // Documented with its serialization by @ApiQuery on the route: ApiProperty has no `style`.
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value))
  @IsArray()
  @ArrayMaxSize(INCLUDES.length)
  @IsIn(INCLUDES, { each: true })
  include?: Include[];
}

export class BatchGetBody {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: MAX_BATCH_GET })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_GET)
  @IsUUID('all', { each: true })
  ids: string[];
}

export class BulkStatusBody {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: MAX_BULK_STATUS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_STATUS)
  @IsUUID('all', { each: true })
  ids: string[];

  @ApiProperty({ enum: PROJECT_STATUSES })
  @IsIn(PROJECT_STATUSES)
  status: ProjectStatus;
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ enum: PROJECT_STATUSES })
  status: ProjectStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ProjectFileSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  path: string;

  @ApiProperty({ type: 'integer', minimum: 0 })
  sizeBytes: number;

  @ApiProperty({ type: String, nullable: true })
  language: string | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ProjectActivitySummaryDto {
  @ApiProperty({ description: 'bigint, as a string', example: '42' })
  id: string;

  @ApiProperty()
  agent: string;

  @ApiProperty()
  action: string;

  @ApiProperty({ ...ANY_JSON, description: 'any JSON value, as stored' })
  payload: unknown;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class ProjectDetailDto extends ProjectDto {
  @ApiPropertyOptional({ type: [ProjectFileSummaryDto], description: 'with include=files: up to 100, by path' })
  files?: ProjectFileSummaryDto[];

  @ApiPropertyOptional({ type: [ProjectActivitySummaryDto], description: 'with include=activities: the latest 20' })
  activities?: ProjectActivitySummaryDto[];
}

export class ProjectPage {
  @ApiProperty({ type: [ProjectDto] })
  items: ProjectDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}

export class ProjectList {
  @ApiProperty({ type: [ProjectDto] })
  items: ProjectDto[];
}

export class BulkStatusResponse {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'how many of the ids were yours and now have the status' })
  updated: number;
}
