import { createParamDecorator, ExecutionContext, SetMetadata, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from './auth.types';

export const PUBLIC_KEY = 'auth:public';
export const ADMIN_KEY = 'auth:admin';

/** The route needs no token (login, health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The route needs an admin token; other users get 403. */
export const AdminOnly = () => SetMetadata(ADMIN_KEY, true);

export interface AuthenticatedRequest extends FastifyRequest {
  user?: AuthUser;
  /** The raw bearer token, so logout can revoke exactly it. */
  token?: string;
}

export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => {
  const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new UnauthorizedException('Authentication required');
  return user;
});
