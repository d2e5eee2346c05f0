import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ADMIN_KEY, AuthenticatedRequest, PUBLIC_KEY } from './auth.decorators';
import { TokenService } from './token.service';

// Our tokens are "pbt_" + 43 base64url characters; anything far longer is not worth hashing.
const BEARER = /^Bearer ([A-Za-z0-9_-]{1,128})$/;

/**
 * Global guard: every route needs a valid bearer token unless marked @Public(); @AdminOnly()
 * routes also need the admin role. Anonymous and bad tokens get 401, non-admins 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (header === undefined) throw new UnauthorizedException('Authentication required: send Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) throw new UnauthorizedException('Malformed Authorization header: expected Bearer <token>');
    const user = await this.tokens.resolve(match[1]);
    if (!user) throw new UnauthorizedException('Invalid or revoked token');
    request.user = user;
    request.token = match[1];

    if (this.reflector.getAllAndOverride<boolean>(ADMIN_KEY, targets) && user.role !== 'admin') {
      throw new ForbiddenException('Admin role required');
    }
    return true;
  }
}
