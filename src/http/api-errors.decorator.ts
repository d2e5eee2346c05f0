import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

/** The one error shape. Each status's description and example are added with the document (openapi.ts). */
export class ErrorResponse {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 })
  statusCode: number;

  @ApiProperty({ description: 'The HTTP reason phrase', example: 'Bad Request' })
  error: string;

  @ApiProperty({ description: 'What is wrong. Invalid input: one "field: what is wrong" per field, joined by "; "', example: 'limit: must be an integer from 1 to 100' })
  message: string;

  @ApiProperty({ description: 'The X-Request-Id of the request', example: '0b6f0c7e-6c1b-4f5e-9a55-2f1f1c6e2f7d' })
  requestId: string;
}

/**
 * The errors a route's own code answers (404 for what it looks up, 409 for a conflict, 413 for a
 * field over its size), and 503, since it reaches the database. What any request to the route may
 * be answered before its handler runs (400, 401, 403, 413, 415, 429) comes from its policy.
 */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(...[...statuses, 503].map((status) => ApiResponse({ status, description: '', type: ErrorResponse })));
}
