import Fastify from 'fastify';
import { Pool, QueryResultRow } from 'pg';
import { APP_HIT_HEADERS } from './app-headers';

/**
 * The bench's yardstick: bare Fastify (no Nest, no guards, no interceptors, no logging) with a
 * plain pg.Pool of the app's size, serving constant JSON and the very SQL the app sends for the
 * measured routes. The app's rate divided by this one's, measured in the same run, is what the
 * framework and our own layers cost. Started by bench/run.ts as its own child process, with the
 * app's node flags (`npm start`'s).
 *
 * It is what a Fastify expert writes for these routes, so that the ratio prices our layers and not
 * a weak yardstick: every answer has a response schema (fast-json-stringify instead of
 * JSON.stringify) and every statement is a named prepared statement (planned once per connection),
 * as the app's PreparedSql sends them.
 *
 * Env: PORT, HOST (127.0.0.1), DATABASE_URL, POOL_SIZE, POOL_MAX, POOL_TIMEOUT_MS, BACKLOG (listen backlog).
 *
 * The SQL is copied from src/projects/project.repository.ts (findOwned, existsOwned) and
 * src/activities/activity.repository.ts (findPage): keep them in step when those change.
 */

const TS = (column: string, alias: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "${alias}"`;
const PROJECT_COLUMNS = `p.id, p.name, p.description, p.status, ${TS('p.created_at', 'createdAt')}, ${TS('p.updated_at', 'updatedAt')}`;
const ACTIVITY_COLUMNS = `a.id::text AS id, a.project_id AS "projectId", a.agent, a.action, a.payload, ${TS('a.created_at', 'createdAt')}`;

const SQL = {
  findOwned: `SELECT ${PROJECT_COLUMNS} FROM projects p WHERE p.id = $1 AND p.user_id = $2`,
  existsOwned: `SELECT 1 FROM projects WHERE id = $1 AND user_id = $2`,
  firstPage: `SELECT ${ACTIVITY_COLUMNS} FROM agent_activities a WHERE a.project_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2`,
  nextPage: `SELECT ${ACTIVITY_COLUMNS} FROM agent_activities a WHERE a.project_id = $1 AND (a.created_at, a.id) < ($2::timestamptz, $3::bigint) ORDER BY a.created_at DESC, a.id DESC LIMIT $4`,
};

type Statement = keyof typeof SQL;

const PROJECT = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: ['string', 'null'] },
    status: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const ACTIVITY = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    agent: { type: 'string' },
    action: { type: 'string' },
    // Any JSON value: no type, so fast-json-stringify hands it to JSON.stringify as the app does.
    payload: {},
    createdAt: { type: 'string' },
  },
} as const;

const ERROR = { type: 'object', properties: { statusCode: { type: 'integer' }, message: { type: 'string' } } } as const;
const FAILURE = { type: 'object', properties: { error: { type: 'string' } } } as const;

/** Same shape and about the same size as a project answer. */
const CONSTANT = {
  id: '3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60',
  name: 'Bench project',
  description: 'A constant answer of the size of a project',
  status: 'active',
  createdAt: '2025-01-01T00:00:00.000000Z',
  updatedAt: '2025-01-01T00:00:00.000000Z',
};

interface ActivityRow {
  id: string;
  createdAt: string;
}

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const size = Number(env('POOL_SIZE', '10'));
  const max = Number(env('POOL_MAX', '20'));
  const pool = new Pool({
    connectionString: env('DATABASE_URL'),
    max,
    min: size,
    connectionTimeoutMillis: Number(env('POOL_TIMEOUT_MS', '30000')),
    idleTimeoutMillis: 10_000,
    application_name: 'bench-reference',
  });
  pool.on('error', () => undefined);

  // Named like the app's statements (a fixed name per text): parsed and planned once per connection.
  const query = <T>(statement: Statement, values: unknown[]) => pool.query<T & QueryResultRow>({ name: statement, text: SQL[statement], values }).then((r) => r.rows);

  const app = Fastify({ logger: false });
  const fail = (reply: { code(n: number): { send(b: unknown): unknown } }, err: unknown) =>
    reply.code(/timeout/i.test(String((err as Error)?.message)) ? 503 : 500).send({ error: String((err as Error)?.message) });

  app.get('/health', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));
  app.get('/constant', { schema: { response: { 200: PROJECT } } }, async () => CONSTANT);
  // The same answer with the headers the app sends on a cache hit: what those headers cost on
  // their own, whatever framework sends them.
  app.get('/constant-app-headers', { schema: { response: { 200: PROJECT } } }, async (_request, reply) => {
    reply.headers(APP_HIT_HEADERS);
    return CONSTANT;
  });

  app.get<{ Params: { id: string } }>('/projects/:id', { schema: { response: { 200: PROJECT, 404: ERROR, '5xx': FAILURE } } }, async (request, reply) => {
    const user = String(request.headers['x-user-id'] ?? '');
    try {
      const rows = await query<Record<string, unknown>>('findOwned', [request.params.id, user]);
      if (rows.length === 0) return reply.code(404).send({ statusCode: 404, message: 'Project not found' });
      return rows[0];
    } catch (err) {
      return fail(reply, err);
    }
  });

  // The app's list: ownership check, then one keyset range scan; the cursor here is the same
  // base64url JSON [createdAt, id] as the app's cursor body, without the signature.
  const page = { type: 'object', properties: { items: { type: 'array', items: ACTIVITY }, nextCursor: { type: ['string', 'null'] } } } as const;
  app.get<{ Params: { id: string }; Querystring: { limit?: string; after?: string } }>('/projects/:id/activities', { schema: { response: { 200: page, 404: ERROR, '5xx': FAILURE } } }, async (request, reply) => {
    const user = String(request.headers['x-user-id'] ?? '');
    const { id } = request.params;
    const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 20) || 20));
    try {
      const owned = await query('existsOwned', [id, user]);
      if (owned.length === 0) return reply.code(404).send({ statusCode: 404, message: 'Project not found' });
      let rows: ActivityRow[];
      if (request.query.after) {
        const [key, after] = JSON.parse(Buffer.from(request.query.after, 'base64url').toString('utf8')) as [string, string];
        rows = await query<ActivityRow>('nextPage', [id, key, after, limit + 1]);
      } else {
        rows = await query<ActivityRow>('firstPage', [id, limit + 1]);
      }
      const more = rows.length > limit;
      const items = more ? rows.slice(0, limit) : rows;
      const last = items[items.length - 1];
      const nextCursor = more ? Buffer.from(JSON.stringify([last.createdAt, last.id])).toString('base64url') : null;
      return { items, nextCursor };
    } catch (err) {
      return fail(reply, err);
    }
  });

  const stop = async () => {
    await app.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  await app.listen({ port: Number(env('PORT', '0')), host: env('HOST', '127.0.0.1'), backlog: Number(env('BACKLOG', '511')) });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`reference listening on http://127.0.0.1:${port} (pool max ${max})`);
}

main().catch((err: unknown) => {
  console.error(`reference server failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
