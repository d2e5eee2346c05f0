import { Injectable } from '@nestjs/common';
import { PreparedSql } from '../database/prepared-sql';
import { CursorPosition } from '../http/cursor';
import { isoTimestamp } from '../database/sql';
import type { Order } from './activity.dto';
import type { ActivityRow, NewActivity } from './activity.entity';

const COLUMNS = `a.id::text AS id, a.project_id AS "projectId", a.agent, a.action, a.payload, ${isoTimestamp('a.created_at', 'createdAt')}`;

export interface ActivityFilter {
  readonly agent?: string;
  readonly action?: string;
  /** Inclusive. */
  readonly since?: string;
  /** Exclusive. */
  readonly until?: string;
}

/**
 * Ids are drawn next to their input position (WITH ORDINALITY) before the INSERT, so each stored row
 * is matched back to its input by id rather than by trusting the order of RETURNING. The column
 * is GENERATED ALWAYS, hence OVERRIDING SYSTEM VALUE for ids taken from its own sequence.
 */
const INSERT_MANY = `
  WITH input AS (
    SELECT nextval(pg_get_serial_sequence('agent_activities', 'id')) AS id, t.*
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS t(project_id, agent, action, payload, n)
  ), a AS (
    INSERT INTO agent_activities (id, project_id, agent, action, payload) OVERRIDING SYSTEM VALUE
    SELECT id, project_id, agent, action, payload FROM input
    RETURNING *
  )
  SELECT ${COLUMNS} FROM a JOIN input i USING (id) ORDER BY i.n`;

@Injectable()
export class ActivityRepository {
  constructor(private readonly sql: PreparedSql) {}

  /**
   * Any number of rows in one statement, hence one transaction: PostgreSQL commits it before it
   * answers, so the rows are durable once this resolves. Returned in input order.
   */
  async insertMany(rows: readonly NewActivity[]): Promise<ActivityRow[]> {
    const written = await this.sql.write<ActivityRow>(INSERT_MANY, [
      rows.map((r) => r.projectId),
      rows.map((r) => r.agent),
      rows.map((r) => r.action),
      rows.map((r) => r.payloadJson),
    ]);
    return written.rows;
  }

  /**
   * One range scan of (project_id, created_at, id) in either direction, starting after the cursor:
   * any page costs what the first does. `limit + 1` rows so the caller can tell whether another
   * page exists. From a replica: an activity page is a log being followed, and the rows a POST
   * appended are in its own answer (RETURNING, from the primary), so a page that shows them after
   * the replay delay misleads no one; ownership is checked on the primary first.
   */
  async findPage(projectId: string, filter: ActivityFilter, order: Order, limit: number, after?: CursorPosition): Promise<ActivityRow[]> {
    const params: unknown[] = [projectId];
    let where = 'a.project_id = $1';
    if (filter.agent !== undefined) {
      params.push(filter.agent);
      where += ` AND a.agent = $${params.length}`;
    }
    if (filter.action !== undefined) {
      params.push(filter.action);
      where += ` AND a.action = $${params.length}`;
    }
    if (filter.since !== undefined) {
      params.push(filter.since);
      where += ` AND a.created_at >= $${params.length}::timestamptz`;
    }
    if (filter.until !== undefined) {
      params.push(filter.until);
      where += ` AND a.created_at < $${params.length}::timestamptz`;
    }
    if (after !== undefined) {
      params.push(after.key, after.id);
      where += ` AND (a.created_at, a.id) ${order === 'asc' ? '>' : '<'} ($${params.length - 1}::timestamptz, $${params.length}::bigint)`;
    }
    const direction = order === 'asc' ? 'ASC' : 'DESC';
    params.push(limit + 1);
    return this.sql.readLagTolerant(`SELECT ${COLUMNS} FROM agent_activities a WHERE ${where} ORDER BY a.created_at ${direction}, a.id ${direction} LIMIT $${params.length}`,
      params,
    );
  }
}
