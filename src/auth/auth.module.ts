import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessCheck } from '../access/access-check';
import { AccessGuard } from '../access/access.guard';
import { TokenResolver } from '../access/token-resolver';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { UserRepository } from './user.repository';
import { UserService } from './user.service';
import { UsersController } from './users.controller';

// The access check (src/access) is registered here because tokens are resolved here: it reaches
// TokenService only through the TokenResolver it declares.
@Module({
  controllers: [AuthController, UsersController],
  providers: [
    UserRepository,
    TokenRepository,
    TokenService,
    { provide: TokenResolver, useExisting: TokenService },
    AuthService,
    UserService,
    AccessCheck,
    AccessGuard,
    { provide: APP_GUARD, useExisting: AccessGuard },
  ],
  exports: [TokenService, AccessCheck],
})
export class AuthModule {}
