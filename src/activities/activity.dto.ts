import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ANY_JSON } from '../http/any-json';
import { PageQuery } from '../http/pagination.dto';

export const MAX_BATCH_ITEMS = 1000;
export const MAX_NAME_LENGTH = 100;
/**
 * Bound on one payload, counted as the UTF-8 bytes of its JSON text. Checked by the service, not
 * the validation pipe, because a payload over it answers 413 (content too large, as the body limit
 * and file contents do) rather than 400: the request is well-formed, only too big.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];

const PAYLOAD_DOC = {
  ...ANY_JSON,
  description: `any JSON value (object, array, string, number, boolean, null); absent: null. At most ${MAX_PAYLOAD_BYTES} bytes as UTF-8 JSON, else 413`,
  example: { file: 'src/main.ts', tokens: 1200 },
};

// IsISO8601 alone lets through week and ordinal dates, which PostgreSQL does not parse; the zone
// is required so that the instant never depends on the database session's time zone.
// Offsets are bounded to +/-15:59, the most PostgreSQL accepts (real ones stay within +/-14:00).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)$/i;
const DATE_TIME_MESSAGE = '$property: must be a date-time with a time zone (offset within +/-15:59), like 2025-05-01T12:00:00Z';

export class CreateActivityBody {
  @ApiProperty({ minLength: 1, maxLength: MAX_NAME_LENGTH, example: 'planner' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  agent: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_NAME_LENGTH, example: 'file.edited' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  action: string;

  @ApiPropertyOptional(PAYLOAD_DOC)
  @IsOptional()
  payload?: unknown;
}

export class CreateActivityBatchBody {
  @ApiProperty({ type: [CreateActivityBody], minItems: 1, maxItems: MAX_BATCH_ITEMS, description: 'stored all or none, in this order' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => CreateActivityBody)
  items: CreateActivityBody[];
}

export class ListActivitiesQuery extends PageQuery {
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_NAME_LENGTH })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  agent?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_NAME_LENGTH })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  action?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'only activities created at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(DATE_TIME, { message: DATE_TIME_MESSAGE })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'only activities created before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(DATE_TIME, { message: DATE_TIME_MESSAGE })
  until?: string;

  @ApiPropertyOptional({ enum: ORDERS, default: 'desc', description: 'by creation time, then id' })
  @IsOptional()
  @IsIn(ORDERS)
  order: Order = 'desc';
}

export class ActivityDto {
  @ApiProperty({ description: 'bigint, as a string', example: '42' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  projectId: string;

  @ApiProperty()
  agent: string;

  @ApiProperty()
  action: string;

  @ApiProperty({ ...ANY_JSON, description: 'any JSON value, as stored (jsonb: object keys deduplicated and reordered); null when none was given' })
  payload: unknown;

  @ApiProperty({ format: 'date-time', description: 'microsecond precision; the time the write transaction began' })
  createdAt: string;
}

export class ActivityList {
  @ApiProperty({ type: [ActivityDto] })
  items: ActivityDto[];
}

export class ActivityPage {
  @ApiProperty({ type: [ActivityDto] })
  items: ActivityDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}
