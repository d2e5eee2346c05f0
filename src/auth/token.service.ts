import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { AuthUser } from './auth.types';
import { TokenRepository } from './token.repository';

// 32 random bytes: 256 bits, beyond guessing. The prefix makes leaked tokens easy to grep for.
const TOKEN_BYTES = 32;
const TOKEN_PREFIX = 'pbt_';
const MAX_CACHED_TOKENS = 10_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface CachedToken {
  readonly user: AuthUser;
  readonly expiresAt: number;
}

/**
 * Opaque bearer tokens. A resolved token is kept in memory for `TOKEN_CACHE_TTL_MS` so that a
 * request does not pay a database round trip for authentication; revoking drops it at once here.
 */
@Injectable()
export class TokenService {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly tokens: TokenRepository,
    private readonly config: AppConfig,
  ) {}

  async issue(userId: string): Promise<string> {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    await this.tokens.insert(userId, hashToken(token));
    return token;
  }

  async resolve(token: string): Promise<AuthUser | undefined> {
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached.user;
    const user = await this.tokens.resolveAndTouch(hash);
    if (user && this.config.tokenCacheTtlMs > 0) {
      this.cache.delete(hash);
      // Map keeps insertion order: the first key is the oldest entry.
      if (this.cache.size >= MAX_CACHED_TOKENS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hash, { user, expiresAt: Date.now() + this.config.tokenCacheTtlMs });
    }
    return user;
  }

  async revoke(token: string): Promise<void> {
    const hash = hashToken(token);
    await this.tokens.revoke(hash);
    this.cache.delete(hash);
  }
}
