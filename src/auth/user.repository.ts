import { Injectable } from '@nestjs/common';
import type { AuthUser, Role } from '../access/auth.types';
import { PreparedSql } from '../database/prepared-sql';
import { isoTimestamp } from '../database/sql';
import { CursorPosition } from '../http/cursor';

export interface UserRow extends AuthUser {
  readonly createdAt: string;
}

export interface UserWithHash extends AuthUser {
  readonly passwordHash: string;
}

const USER_COLUMNS = `id, email, role, ${isoTimestamp('created_at', 'createdAt')}`;

@Injectable()
export class UserRepository {
  constructor(private readonly sql: PreparedSql) {}

  async findByEmailWithHash(email: string): Promise<UserWithHash | undefined> {
    const rows: UserWithHash[] = await this.sql.read(`SELECT id, email, role, password_hash AS "passwordHash" FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0];
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const rows: UserRow[] = await this.sql.read(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0];
  }

  async insert(email: string, passwordHash: string, role: Role): Promise<UserRow> {
    const { rows } = await this.sql.write<UserRow>(
      `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`,
      [email, passwordHash, role],
    );
    return rows[0];
  }

  async existsWithRole(role: Role): Promise<boolean> {
    const rows: unknown[] = await this.sql.read(`SELECT 1 FROM users WHERE role = $1 LIMIT 1`, [role]);
    return rows.length > 0;
  }

  /** Newest first; `limit + 1` rows so the caller can tell whether another page exists. */
  async findPage(limit: number, after?: CursorPosition): Promise<UserRow[]> {
    if (!after) {
      return this.sql.read(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at DESC, id DESC LIMIT $1`, [limit + 1]);
    }
    return this.sql.read(`SELECT ${USER_COLUMNS} FROM users
        WHERE (created_at, id) < ($1::timestamptz, $2::uuid)
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [after.key, after.id, limit + 1],
    );
  }
}
