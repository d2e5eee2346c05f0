import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger';
import { ErrorResponse } from '../http/api-errors.decorator';

// Terminus's indicator map: { database: { status: 'up', ping_ms: 1.2, pool: {...} }, ... }. An
// anonymous caller gets the statuses only; an admin also the figures (see health.controller.ts).
const INDICATOR: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'down'] } },
  additionalProperties: true,
};
const INDICATORS = {
  type: 'object' as const,
  additionalProperties: INDICATOR,
  example: { lifecycle: { status: 'up', state: 'serving' }, database: { status: 'up' } },
};

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  @ApiPropertyOptional({ ...INDICATORS, description: 'the indicators that are up' })
  info?: Record<string, unknown>;

  @ApiPropertyOptional({ ...INDICATORS, description: 'the indicators that are down (none on a 200)' })
  error?: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'every indicator' })
  details: Record<string, unknown>;
}

/**
 * A 503 of readiness: the one error shape, with terminus's indicators when the application answers
 * (not while it boots: the boot probe answers in the bare error shape).
 */
export class HealthUnavailableDto extends ErrorResponse {
  @ApiPropertyOptional({ enum: ['error', 'shutting_down'] })
  status?: 'error' | 'shutting_down';

  @ApiPropertyOptional({ ...INDICATORS, description: 'the indicators that are up' })
  info?: Record<string, unknown>;

  @ApiPropertyOptional({ ...INDICATORS, description: 'every indicator' })
  details?: Record<string, unknown>;
}
