import { createParamDecorator, ExecutionContext, SetMetadata, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from './auth.types';

export const PUBLIC_KEY = 'auth:public';
export const ADMIN_KEY = 'auth:admin';

/**
 * The route needs no token (login, health, metrics, docs). With `identifies`, a valid token still
 * sets the current user (a bad one is ignored), for answers that show admins more.
 */
export const Public = (options: { identifies?: boolean } = {}) => SetMetadata(PUBLIC_KEY, options.identifies ? 'identifies' : true);

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
