import { Injectable } from '@nestjs/common';
import { PreparedSql } from '../database/prepared-sql';
import { CursorPosition } from '../http/cursor';
import { isoTimestamp } from '../database/sql';
import type { ProjectRow, ProjectStatus } from './project.entity';

/** Bounds of the include=files / include=activities views, so one read costs the same at any size. */
export const INCLUDED_FILES_MAX = 100;
export const INCLUDED_ACTIVITIES_MAX = 20;

const COLUMNS = `p.id, p.name, p.description, p.status, ${isoTimestamp('p.created_at', 'createdAt')}, ${isoTimestamp('p.updated_at', 'updatedAt')}`;

export interface ProjectDetailRow extends ProjectRow {
  files: unknown[] | null;
  activities: unknown[] | null;
}

export interface ProjectChanges {
  name?: string;
  description?: string | null;
  status?: ProjectStatus;
}

// Whitelisted column names: the only dynamic part of the UPDATE statement.
const UPDATABLE: Record<keyof ProjectChanges, string> = { name: 'name', description: 'description', status: 'status' };

/** Every query is scoped by owner: another user's project is indistinguishable from a missing one. */
@Injectable()
export class ProjectRepository {
  constructor(private readonly sql: PreparedSql) {}

  async insert(userId: string, name: string, description: string | null, status: ProjectStatus): Promise<ProjectRow> {
    const { rows } = await this.sql.write<ProjectRow>(
      `INSERT INTO projects AS p (user_id, name, description, status) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [userId, name, description, status],
    );
    return rows[0];
  }

  async findOwned(userId: string, id: string): Promise<ProjectRow | undefined> {
    const rows: ProjectRow[] = await this.sql.read(`SELECT ${COLUMNS} FROM projects p WHERE p.id = $1 AND p.user_id = $2`, [id, userId]);
    return rows[0];
  }

  async existsOwned(userId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.sql.read(`SELECT 1 FROM projects WHERE id = $1 AND user_id = $2`, [id, userId]);
    return rows.length > 0;
  }

  /** The project with its bounded file list and latest activities, in one statement. */
  async findOwnedWithIncludes(userId: string, id: string, files: boolean, activities: boolean): Promise<ProjectDetailRow | undefined> {
    const rows: ProjectDetailRow[] = await this.sql.read(`SELECT ${COLUMNS},
         CASE WHEN $3::boolean THEN (
           SELECT coalesce(json_agg(f ORDER BY f.path COLLATE "C"), '[]'::json) FROM (
             SELECT id, path, size_bytes AS "sizeBytes", language, ${isoTimestamp('updated_at', 'updatedAt')}
               FROM files WHERE project_id = p.id ORDER BY path COLLATE "C" LIMIT ${INCLUDED_FILES_MAX}) f
         ) END AS files,
         CASE WHEN $4::boolean THEN (
           SELECT coalesce(json_agg(a ORDER BY a."createdAt" DESC, a.n DESC), '[]'::json) FROM (
             SELECT id::text AS id, id AS n, agent, action, payload, ${isoTimestamp('created_at', 'createdAt')}
               FROM agent_activities WHERE project_id = p.id ORDER BY created_at DESC, id DESC LIMIT ${INCLUDED_ACTIVITIES_MAX}) a
         ) END AS activities
       FROM projects p WHERE p.id = $1 AND p.user_id = $2`,
      [id, userId, files, activities],
    );
    return rows[0];
  }

  /**
   * Newest first; `limit + 1` rows so the caller can tell whether another page exists. From a
   * replica: a list is a browsing view that no write depends on, and a project created a moment ago
   * is read back by its id from the primary (findOwned), so the list lagging by the replay delay
   * misleads no one.
   */
  async findPage(userId: string, limit: number, status?: ProjectStatus, after?: CursorPosition): Promise<ProjectRow[]> {
    const params: unknown[] = [userId];
    let where = 'p.user_id = $1';
    if (status !== undefined) {
      params.push(status);
      where += ` AND p.status = $${params.length}`;
    }
    if (after !== undefined) {
      params.push(after.key, after.id);
      where += ` AND (p.created_at, p.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    params.push(limit + 1);
    return this.sql.readLagTolerant(`SELECT ${COLUMNS} FROM projects p WHERE ${where} ORDER BY p.created_at DESC, p.id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async findManyOwned(userId: string, ids: string[]): Promise<ProjectRow[]> {
    return this.sql.read(`SELECT ${COLUMNS} FROM projects p WHERE p.user_id = $1 AND p.id = ANY($2::uuid[]) ORDER BY p.created_at DESC, p.id DESC`,
      [userId, ids],
    );
  }

  async updateOwned(userId: string, id: string, changes: ProjectChanges): Promise<ProjectRow | undefined> {
    const params: unknown[] = [id, userId];
    const sets = ['updated_at = now()'];
    for (const key of Object.keys(UPDATABLE) as (keyof ProjectChanges)[]) {
      if (changes[key] === undefined) continue;
      params.push(changes[key]);
      sets.push(`${UPDATABLE[key]} = $${params.length}`);
    }
    const { rows } = await this.sql.write<ProjectRow>(
      `UPDATE projects p SET ${sets.join(', ')} WHERE p.id = $1 AND p.user_id = $2 RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0];
  }

  /** One statement for the whole set; returns the ids of the caller's projects it changed. */
  async updateStatusOwned(userId: string, ids: string[], status: ProjectStatus): Promise<string[]> {
    const { rows } = await this.sql.write<{ id: string }>(
      `UPDATE projects SET status = $3, updated_at = now() WHERE user_id = $1 AND id = ANY($2::uuid[]) RETURNING id`,
      [userId, ids, status],
    );
    return rows.map((row) => row.id);
  }

  /** Files and activities go with it (ON DELETE CASCADE). */
  async deleteOwned(userId: string, id: string): Promise<boolean> {
    const { count } = await this.sql.write(`DELETE FROM projects WHERE id = $1 AND user_id = $2`, [id, userId]);
    return count > 0;
  }
}
