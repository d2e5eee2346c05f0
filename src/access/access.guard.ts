import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isAdmitted } from './access-check';

/**
 * The global guard. The access check itself runs in the request pipeline before the body is read
 * (src/pipeline/pipeline.ts); by the time Nest routes a request it has been admitted or answered.
 * This guard only fails closed if a request ever reached a controller some other way.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (isAdmitted(context.switchToHttp().getRequest<FastifyRequest>())) return true;
    throw new Error(`${context.getClass().name}.${context.getHandler().name} was reached without the request pipeline's access check`);
  }
}
