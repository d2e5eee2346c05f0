import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthController } from './auth.controller';
import { AccessCheck } from './access-check';
import { AccessGuard } from './access.guard';
import { AuthService } from './auth.service';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { UserRepository } from './user.repository';
import { UserService } from './user.service';
import { UsersController } from './users.controller';

@Module({
  controllers: [AuthController, UsersController],
  providers: [UserRepository, TokenRepository, TokenService, AuthService, UserService, AccessCheck, AccessGuard, { provide: APP_GUARD, useExisting: AccessGuard }],
  exports: [TokenService, AccessCheck],
})
export class AuthModule {}
