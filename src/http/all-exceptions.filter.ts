import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { classifyDbError, isErrorLike } from '../database/database.errors';
import { ErrorBody, errorBody } from './error-body';

/**
 * Turns anything thrown into `{statusCode, error, message, requestId}`. Database errors become
 * 409/400/503 without SQL; unknown errors become a bare 500 and are logged with their stack.
 */
export function toErrorBody(err: unknown, requestId: string, logger: Logger): ErrorBody {
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    if (typeof response === 'string') return errorBody(status, response, requestId);
    const { message, statusCode: _s, error: _e, ...extra } = response as Record<string, unknown>;
    return errorBody(status, messageText(message) ?? err.message, requestId, extra);
  }
  const db = classifyDbError(err);
  if (db) {
    if (db.status >= 500) logger.warn({ msg: `database error answered ${db.status}`, requestId, err: describe(err) });
    else logger.debug({ msg: `database error answered ${db.status}`, requestId, err: describe(err) });
    return errorBody(db.status, db.message, requestId);
  }
  // Fastify's own errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode.
  const fastifyStatus = (err as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return errorBody(fastifyStatus, (err as Error).message, requestId);
  }
  logger.error({ msg: 'unhandled error', requestId, err: describe(err) });
  return errorBody(500, 'Internal server error', requestId);
}

function messageText(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return undefined;
}

function describe(err: unknown): Record<string, unknown> {
  if (!isErrorLike(err)) return { value: String(err) };
  return { name: err.name, message: err.message, code: (err as { code?: unknown }).code, stack: err.stack };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toErrorBody(exception, request.id, this.logger);
    if (reply.sent) return;
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
