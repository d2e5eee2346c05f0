import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthUser, Role } from '../access/auth.types';
import { readQuery } from '../database/retry';
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
  constructor(private readonly db: DataSource) {}

  async findByEmailWithHash(email: string): Promise<UserWithHash | undefined> {
    const rows: UserWithHash[] = await readQuery(this.db,
      `SELECT id, email, role, password_hash AS "passwordHash" FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0];
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const rows: UserRow[] = await readQuery(this.db, `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0];
  }

  async insert(email: string, passwordHash: string, role: Role): Promise<UserRow> {
    const rows: UserRow[] = await this.db.query(
      `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`,
      [email, passwordHash, role],
    );
    return rows[0];
  }

  async existsWithRole(role: Role): Promise<boolean> {
    const rows: unknown[] = await readQuery(this.db, `SELECT 1 FROM users WHERE role = $1 LIMIT 1`, [role]);
    return rows.length > 0;
  }

  /** Newest first; `limit + 1` rows so the caller can tell whether another page exists. */
  async findPage(limit: number, after?: CursorPosition): Promise<UserRow[]> {
    if (!after) {
      return readQuery(this.db, `SELECT ${USER_COLUMNS} FROM users ORDER BY created_at DESC, id DESC LIMIT $1`, [limit + 1]);
    }
    return readQuery(this.db,
      `SELECT ${USER_COLUMNS} FROM users
        WHERE (created_at, id) < ($1::timestamptz, $2::uuid)
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [after.key, after.id, limit + 1],
    );
  }
}
