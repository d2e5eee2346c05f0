import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, Public } from '../access/auth.decorators';
import type { AuthenticatedRequest } from '../access/auth.decorators';
import type { AuthUser } from '../access/auth.types';
import { ApiErrors } from '../http/api-errors.decorator';
import { LoginRateLimit } from '../http/rate-limit/rate-limit-step';
import { RateLimiter } from '../http/rate-limit/rate-limiter';
import { LoginBody, LoginResponse, UserDto } from './auth.dto';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
  ) {}

  @Public()
  @LoginRateLimit()
  @Post('login')
  @ApiOperation({
    operationId: 'login',
    summary: 'Exchange email and password for a bearer token',
    description: 'Also rate-limited per account (login-account), whatever the client address.',
  })
  @ApiCreatedResponse({ type: LoginResponse })
  @ApiErrors(401)
  async login(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply, @Body() body: LoginBody): Promise<LoginResponse> {
    // Per account as well as per address: the email is only known once the body is read.
    await this.limiter.countAccount(request, reply, body.email);
    return this.auth.login(body.email, body.password);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ operationId: 'logout', summary: 'Revoke the token this request presents' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors()
  async logout(@Req() request: AuthenticatedRequest): Promise<void> {
    await this.auth.logout(request.token!);
  }

  @Get('me')
  @ApiOperation({ operationId: 'getCurrentUser', summary: 'The user the token belongs to' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors()
  me(@CurrentUser() user: AuthUser): UserDto {
    return this.auth.me(user);
  }
}
