import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { anActivity, TestUser } from '../../support/factories';

// Rate limits would turn the bursts of these suites into 429s; they are tested on their own.
export const ENV = { RATE_LIMIT_ENABLED: 'false' };

/** What the activities API answers for one activity. */
export interface ActivityBody {
  id: string;
  projectId: string;
  agent: string;
  action: string;
  payload: unknown;
  createdAt: string;
}

export const activitiesUrl = (projectId: string) => `/api/projects/${projectId}/activities`;
export const batchUrl = (projectId: string) => `/api/projects/${projectId}/activities/batch`;

/** Keyset order: createdAt, then the bigint id. */
export function compareRows(a: ActivityBody, b: ActivityBody): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  const diff = BigInt(a.id) - BigInt(b.id);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** Records one activity through the API; anything but a 201 fails the test that asked. */
export async function record(app: NestFastifyApplication, user: TestUser, projectId: string, overrides: Record<string, unknown> = {}): Promise<ActivityBody> {
  const res = await app.inject({ method: 'POST', url: activitiesUrl(projectId), headers: user.headers, payload: anActivity(overrides) });
  if (res.statusCode !== 201) throw new Error(`activity not recorded: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Records a batch through the API, in order. */
export async function recordMany(app: NestFastifyApplication, user: TestUser, projectId: string, items: Record<string, unknown>[]): Promise<ActivityBody[]> {
  const res = await app.inject({ method: 'POST', url: batchUrl(projectId), headers: user.headers, payload: { items } });
  if (res.statusCode !== 201) throw new Error(`activities not recorded: ${res.statusCode} ${res.body}`);
  return res.json().items;
}

/** The activity's row as PostgreSQL stores it. */
export async function storedRow(db: DataSource, id: string) {
  const rows = await db.query(`SELECT project_id, agent, action, payload, created_at FROM agent_activities WHERE id = $1`, [id]);
  return rows[0];
}
