import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'limit: must not be greater than 100' })
  message: string;

  @ApiProperty({ example: '0b6f0c7e-6c1b-4f5e-9a55-2f1f1c6e2f7d' })
  requestId: string;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: the message names the field',
  401: 'Missing, malformed, revoked or unknown token',
  403: 'Authenticated but not allowed (admin only)',
  404: 'Not found, or not yours',
  409: 'Conflicts with an existing resource',
  413: 'Body or content too large',
  429: 'Rate limited; see Retry-After',
  503: 'Database busy or unavailable; retry',
};

/** Documents the error answers of a route, all in the one error shape. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...[...statuses, 503].map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorResponse }),
    ),
  );
}
