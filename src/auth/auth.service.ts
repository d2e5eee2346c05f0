import { Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import { LoginResponse, TokenResponse } from './auth.dto';
import { decoyHash, verifyPassword } from './password';
import { TokenService } from './token.service';
import { toUserDto } from './user.mapper';
import { UserRepository } from './user.repository';

const BAD_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly tokens: TokenService,
  ) {}

  /** The same answer, after the same work, whether the email exists or not. */
  async login(email: string, password: string): Promise<LoginResponse> {
    const user = await this.users.findByEmailWithHash(email);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw new UnauthorizedException(BAD_CREDENTIALS);
    return { token: await this.tokens.issue(user.id), user: toUserDto(user) };
  }

  async logout(token: string): Promise<void> {
    await this.tokens.revoke(token);
  }

  async issueTokenFor(userId: string): Promise<TokenResponse> {
    if (!(await this.users.findById(userId))) throw new NotFoundException('User not found');
    return { token: await this.tokens.issue(userId) };
  }

  me(user: AuthUser) {
    return toUserDto(user);
  }
}
