import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

/** The one error shape. Each status's description and example are added with the document (src/pipeline/openapi.ts). */
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
 * The errors a route's own code answers (404 for what it looks up, 409 for a conflict), each with
 * what it means on this route when that says more than the usual description, and 503, since it
 * reaches the database. What any request to the route may be answered before its handler runs
 * (400, 401, 403, 408, 413, 414, 415, 429) comes from its policy (src/pipeline/openapi.ts).
 */
export function ApiErrors(...answers: (number | [status: number, description: string])[]) {
  return applyDecorators(
    ...[...answers, 503].map((answer) => {
      const [status, description] = typeof answer === 'number' ? [answer, ''] : answer;
      return ApiResponse({ status, description, type: ErrorResponse });
    }),
  );
}
