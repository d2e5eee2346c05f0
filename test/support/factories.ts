import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { Role } from '../../src/access/auth.types';
import { hashPassword } from '../../src/auth/password';
import { TokenService } from '../../src/auth/token.service';

export const TEST_PASSWORD = 'correct horse battery';
// scrypt is deliberately slow; one hash serves every test user.
let sharedHash: Promise<string> | undefined;

export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly token: string;
  /** Ready-made headers for app.inject(). */
  readonly headers: { authorization: string };
}

/** A user with a live token, written straight to the database (login is tested on its own). */
export async function aUser(app: NestFastifyApplication, opts: { role?: Role; email?: string } = {}): Promise<TestUser> {
  sharedHash ??= hashPassword(TEST_PASSWORD);
  const email = opts.email ?? `user-${randomUUID()}@example.com`;
  const role = opts.role ?? 'user';
  const [{ id }] = await app
    .get(DataSource)
    .query(`INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id`, [email, await sharedHash, role]);
  const token = await app.get(TokenService).issue(id);
  return { id, email, role, token, headers: { authorization: `Bearer ${token}` } };
}

export function aProject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: `project ${randomUUID().slice(0, 8)}`, description: 'made by a test', ...overrides };
}

/** A file create body: a small TypeScript source at a fresh path. */
export function aFile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: `src/${randomUUID().slice(0, 8)}.ts`, content: 'export const answer = 42;\n', language: 'typescript', ...overrides };
}

/** An activity record body: one planner step with a small payload. */
export function anActivity(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { agent: 'planner', action: `step-${randomUUID().slice(0, 8)}`, payload: { tokens: 12 }, ...overrides };
}

/** Creates a project through the API and returns its body. */
export async function createProject(app: NestFastifyApplication, user: TestUser, overrides: Record<string, unknown> = {}) {
  const res = await app.inject({ method: 'POST', url: '/api/projects', headers: user.headers, payload: aProject(overrides) });
  if (res.statusCode !== 201) throw new Error(`project not created: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; name: string; status: string; createdAt: string };
}

/** Row counts of every data table: "the database is unchanged" compares two of these. */
export async function tableCounts(app: NestFastifyApplication): Promise<Record<string, number>> {
  const [row] = await app.get(DataSource).query(`
    SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM api_tokens)::int AS api_tokens,
           (SELECT count(*) FROM projects)::int AS projects, (SELECT count(*) FROM files)::int AS files,
           (SELECT count(*) FROM agent_activities)::int AS agent_activities,
           (SELECT coalesce(max(updated_at), 'epoch')::text FROM projects) AS projects_updated,
           (SELECT coalesce(max(updated_at), 'epoch')::text FROM files) AS files_updated`);
  return row;
}

/**
 * Captures the statements reads send to the pool (as named prepared statements), so a test can
 * EXPLAIN exactly what the API ran.
 */
export async function capturePoolQueries(app: NestFastifyApplication, run: () => Promise<unknown>): Promise<[string, unknown[]][]> {
  const pool = (app.get(DataSource).driver as PostgresDriver).master as { query: (...args: unknown[]) => unknown };
  const spy = jest.spyOn(pool, 'query');
  try {
    await run();
    return spy.mock.calls
      .map(([q]) => q as { text?: string; values?: unknown[] })
      .filter((q) => typeof q?.text === 'string')
      .map((q) => [q.text!, q.values ?? []]);
  } finally {
    spy.mockRestore();
  }
}
