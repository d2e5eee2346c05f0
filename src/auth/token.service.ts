import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import type { TokenResolver } from '../access/token-resolver';
import { CacheService } from '../cache/cache.service';
import type { TieredCache } from '../cache/tiered-cache';
import { AppConfig } from '../config/app-config';
import { TokenCache } from './token.cache';
import { TokenRepository } from './token.repository';

// 32 random bytes: 256 bits, beyond guessing. The prefix makes leaked tokens easy to grep for.
const TOKEN_BYTES = 32;
const TOKEN_PREFIX = 'pbt_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// Recently seen tokens and their hashes: a SHA-256 per request was a measurable share of a cached
// GET (docs/BENCHMARKS.md, round 1: "bearer-token hashes memoized").
// Bounded; emptied when full (a cold start of the memo costs one hash per token).
const MAX_MEMO = 10_000;
const memo = new Map<string, string>();

function memoHash(token: string): string {
  let hash = memo.get(token);
  if (hash === undefined) {
    if (memo.size >= MAX_MEMO) memo.clear();
    hash = hashToken(token);
    memo.set(token, hash);
  }
  return hash;
}

/**
 * Opaque bearer tokens. A resolved token is cached (TOKEN_CACHE_TTL_MS, the same tiered cache as
 * responses) so a request does not pay a database round trip for authentication; revoking
 * invalidates it here at once and, with Redis, on the other instances within milliseconds.
 */
@Injectable()
export class TokenService implements TokenResolver {
  private readonly cached: TieredCache<AuthUser>;

  constructor(
    private readonly tokens: TokenRepository,
    private readonly cache: CacheService,
    private readonly config: AppConfig,
  ) {
    this.cached = cache.create(TokenCache.spec(config));
  }

  async issue(userId: string): Promise<string> {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    await this.tokens.insert(userId, hashToken(token));
    return token;
  }

  /** The token's user when this instance's cache holds it; undefined when only `resolve` can tell. */
  known(token: string): AuthUser | undefined {
    if (this.config.tokenCacheTtlMs === 0) return undefined;
    const hash = memoHash(token);
    return this.cached.peek(hash, TokenCache.tags(hash));
  }

  async resolve(token: string): Promise<AuthUser | undefined> {
    const hash = memoHash(token);
    if (this.config.tokenCacheTtlMs === 0) return this.tokens.resolveAndTouch(hash);
    const tags = TokenCache.tags(hash);
    const cached = this.cached.peek(hash, tags);
    if (cached !== undefined) return cached;
    const { value } = await this.cached.getOrLoad(hash, tags, () => this.tokens.resolveAndTouch(hash));
    return value;
  }

  async revoke(token: string): Promise<void> {
    const hash = hashToken(token);
    await this.tokens.revoke(hash);
    await this.cache.invalidate(TokenCache.tags(hash));
  }
}
