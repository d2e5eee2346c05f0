import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import { PreparedSql } from '../database/prepared-sql';

@Injectable()
export class TokenRepository {
  constructor(private readonly sql: PreparedSql) {}

  async insert(userId: string, tokenHash: string): Promise<void> {
    await this.sql.write(`INSERT INTO api_tokens (user_id, token_hash) VALUES ($1, $2)`, [userId, tokenHash]);
  }

  /** The token's user, recording the use in the same round trip; undefined when unknown or revoked. */
  async resolveAndTouch(tokenHash: string): Promise<AuthUser | undefined> {
    // Setting last_used_at again is harmless, so this is retried like a read.
    const { rows } = await this.sql.writeRepeatable<AuthUser>(
      `UPDATE api_tokens t SET last_used_at = now()
         FROM users u
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.id = t.user_id
        RETURNING u.id, u.email, u.role`,
      [tokenHash],
    );
    return rows[0];
  }

  async revoke(tokenHash: string): Promise<void> {
    await this.sql.write(`UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash]);
  }
}
