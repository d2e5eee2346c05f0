import { Injectable } from '@nestjs/common';
import { PreparedSql } from '../database/prepared-sql';
import { isoTimestamp } from '../database/sql';
import type { FileRow, FileSummaryRow } from './file.entity';

const SUMMARY_COLUMNS = `f.id, f.path, f.size_bytes AS "sizeBytes", f.language, ${isoTimestamp('f.created_at', 'createdAt')}, ${isoTimestamp('f.updated_at', 'updatedAt')}`;
const COLUMNS = `${SUMMARY_COLUMNS}, f.content`;

export interface NewFile {
  path: string;
  content: string;
  sizeBytes: number;
  language: string | null;
}

export interface FileChanges {
  path?: string;
  content?: string;
  sizeBytes?: number;
  language?: string | null;
}

// Whitelisted column names: the only dynamic part of the UPDATE statement.
const UPDATABLE: Record<keyof FileChanges, string> = { path: 'path', content: 'content', sizeBytes: 'size_bytes', language: 'language' };

/**
 * Every statement is scoped to one project. Whose project it is was checked before, by the one
 * ownership check (ProjectService.requireOwned).
 */
@Injectable()
export class FileRepository {
  constructor(private readonly sql: PreparedSql) {}

  async insert(projectId: string, file: NewFile): Promise<FileRow> {
    const { rows } = await this.sql.write<FileRow>(
      `INSERT INTO files AS f (project_id, path, content, size_bytes, language)
       VALUES ($1, $2, $3, $4::integer, $5)
       RETURNING ${COLUMNS}`,
      [projectId, file.path, file.content, file.sizeBytes, file.language],
    );
    return rows[0];
  }

  async find(projectId: string, id: string): Promise<FileRow | undefined> {
    const rows: FileRow[] = await this.sql.read(`SELECT ${COLUMNS} FROM files f WHERE f.id = $1 AND f.project_id = $2`, [id, projectId]);
    return rows[0];
  }

  /**
   * In byte order of the path (the C collation of files_project_id_path_key, so the index serves
   * the filter, the keyset and the order); `limit + 1` rows so the caller can tell whether another
   * page exists. starts_with() takes the prefix literally (no LIKE wildcards to escape) and, on a
   * C-collated expression, the planner turns it into an index range. From a replica: the list
   * carries no content and no write depends on it; the project's ownership is checked on the
   * primary before it (ProjectService.requireOwned), and a file just written is read back by its
   * id from the primary (find), so a list behind by the replay delay misleads no one.
   */
  async findPage(projectId: string, limit: number, prefix?: string, afterPath?: string): Promise<FileSummaryRow[]> {
    const params: unknown[] = [projectId];
    let where = 'f.project_id = $1';
    if (prefix !== undefined && prefix !== '') {
      params.push(prefix);
      where += ` AND starts_with(f.path COLLATE "C", $${params.length})`;
    }
    if (afterPath !== undefined) {
      params.push(afterPath);
      where += ` AND f.path COLLATE "C" > $${params.length}`;
    }
    params.push(limit + 1);
    return this.sql.readLagTolerant(`SELECT ${SUMMARY_COLUMNS} FROM files f WHERE ${where} ORDER BY f.path COLLATE "C" LIMIT $${params.length}`,
      params,
    );
  }

  async update(projectId: string, id: string, changes: FileChanges): Promise<FileRow | undefined> {
    const params: unknown[] = [id, projectId];
    const sets = ['updated_at = now()'];
    for (const key of Object.keys(UPDATABLE) as (keyof FileChanges)[]) {
      if (changes[key] === undefined) continue;
      params.push(changes[key]);
      sets.push(`${UPDATABLE[key]} = $${params.length}`);
    }
    const { rows } = await this.sql.write<FileRow>(
      `UPDATE files f SET ${sets.join(', ')}
       WHERE f.id = $1 AND f.project_id = $2
       RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0];
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const { count } = await this.sql.write(`DELETE FROM files f WHERE f.id = $1 AND f.project_id = $2`, [id, projectId]);
    return count > 0;
  }
}
