import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../../src/config/app-config';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { migrate } from '../../src/database/migrate';
import { hashPassword } from '../../src/auth/password';
import { Args } from './args';

/**
 * Bulk data for benchmarks and manual testing, generated inside PostgreSQL:
 * `INSERT ... SELECT ... FROM generate_series(...)` in chunks, each chunk one statement and so one
 * transaction. Nothing travels row by row over the wire, which is what makes 1M rows take seconds.
 *
 *   npm run seed -- --users 100 --projects 10000 --files 50000 --activities 1000000
 *
 * Re-runnable: every run has its own tag in emails, project names and file paths, so a second run
 * adds as much again without a unique violation.
 */

export const SEED_PASSWORD = 'seed-password-1234';

export interface SeedCounts {
  readonly users: number;
  readonly projects: number;
  readonly files: number;
  readonly activities: number;
}

export interface SeedOptions {
  /** Rows per statement (each its own transaction). */
  readonly chunk?: number;
  /** Distinguishes this run's emails, names and paths; default: random. */
  readonly tag?: string;
  /** The stored password hash of every seeded user (hashed once by the caller). */
  readonly passwordHash: string;
  /** Progress lines; default: a \r progress bar on stderr. */
  readonly progress?: (table: string, done: number, total: number, rowsPerSec: number) => void;
}

export interface TableTiming {
  readonly table: string;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSec: number;
}

export interface SeedResult {
  readonly tag: string;
  readonly timings: TableTiming[];
  readonly totalSeconds: number;
}

const AGENTS = ['planner', 'coder', 'reviewer', 'tester', 'deployer', 'researcher'];
const ACTIONS = ['file.created', 'file.edited', 'file.deleted', 'test.run', 'build.started', 'build.finished', 'review.commented', 'deploy.started', 'plan.updated'];
const STATUSES = ['active', 'active', 'active', 'active', 'archived', 'completed', 'draft'];
const LANGUAGES = ['typescript', 'typescript', 'python', 'markdown', 'json', 'go', 'rust', null];

/** A SQL array literal of text values, for constants inlined in the generating statements. */
function textArray(values: readonly (string | null)[]): string {
  return `ARRAY[${values.map((v) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`)).join(',')}]::text[]`;
}

export function defaultProgress(table: string, done: number, total: number, rowsPerSec: number): void {
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  process.stderr.write(`\r${table} ${done}/${total} (${pct}%) ${Math.round(rowsPerSec)} rows/s   `);
  if (done >= total) process.stderr.write('\n');
}

/**
 * Inserts `counts` rows into users, projects, files and agent_activities, on `client` (which must
 * not be in a transaction). Projects go to this run's users (or, with --users 0, to existing ones),
 * files and activities to this run's projects (or existing ones). Activities are spread over the
 * last year, oldest first, so the (project_id, created_at, id) index grows as in production;
 * their project is skewed (a few hot projects hold many, most hold a few) as agents' work is.
 */
export async function seed(client: Client, counts: SeedCounts, options: SeedOptions): Promise<SeedResult> {
  const chunk = options.chunk ?? 100_000;
  const tag = options.tag ?? randomBytes(4).toString('hex');
  const progress = options.progress ?? defaultProgress;
  const timings: TableTiming[] = [];
  const started = performance.now();

  // Each run's ids, in creation order, so later tables can spread over them by position.
  await client.query('DROP TABLE IF EXISTS pg_temp.seed_users, pg_temp.seed_projects');
  await client.query('CREATE TEMP TABLE seed_users (n serial PRIMARY KEY, id uuid NOT NULL)');
  await client.query('CREATE TEMP TABLE seed_projects (n serial PRIMARY KEY, id uuid NOT NULL)');

  const chunked = async (table: string, total: number, insert: (from: number, to: number) => Promise<void>) => {
    const t0 = performance.now();
    if (total > 0) progress(table, 0, total, 0);
    for (let from = 1; from <= total; from += chunk) {
      const to = Math.min(total, from + chunk - 1);
      await insert(from, to);
      progress(table, to, total, to / ((performance.now() - t0) / 1000));
    }
    const seconds = (performance.now() - t0) / 1000;
    timings.push({ table, rows: total, seconds, rowsPerSec: total === 0 ? 0 : total / seconds });
  };

  // Timestamps: the year before now, increasing with the row number.
  const spread = (total: number) => `now() - interval '365 days' * (1 - g::float8 / ${Math.max(1, total)})`;

  await chunked('users', counts.users, async (from, to) => {
    await client.query(
      `WITH ins AS (
         INSERT INTO users (email, password_hash, role, created_at)
         SELECT 'seed-' || $3 || '-' || g || '@seed.local', $4, 'user', ${spread(counts.users)}
           FROM generate_series($1::int, $2::int) g
         RETURNING id, email)
       INSERT INTO seed_users (id) SELECT id FROM ins ORDER BY email`,
      [from, to, tag, options.passwordHash],
    );
  });
  if (counts.projects > 0 && counts.users === 0) {
    // Spread over existing users instead.
    await client.query(`INSERT INTO seed_users (id) SELECT id FROM users ORDER BY created_at, id LIMIT 10000`);
  }
  if (counts.projects > 0 && (await count(client, 'seed_users')) === 0) {
    throw new Error('--projects needs users: give --users or seed a database that has some');
  }

  await chunked('projects', counts.projects, async (from, to) => {
    await client.query(
      `WITH u AS (SELECT array_agg(id ORDER BY n) AS ids, count(*)::int AS k FROM seed_users),
       ins AS (
         INSERT INTO projects (user_id, name, description, status, created_at, updated_at)
         SELECT u.ids[1 + (g % u.k)],
                'Seed project ' || $3 || ' #' || g,
                CASE WHEN g % 3 = 0 THEN NULL ELSE 'Generated by npm run seed (run ' || $3 || '), project ' || g END,
                (${textArray(STATUSES)})[1 + (g % ${STATUSES.length})],
                ${spread(counts.projects)}, ${spread(counts.projects)}
           FROM generate_series($1::int, $2::int) g, u
         RETURNING id, created_at)
       INSERT INTO seed_projects (id) SELECT id FROM ins ORDER BY created_at, id`,
      [from, to, tag],
    );
  });
  if ((counts.files > 0 || counts.activities > 0) && counts.projects === 0) {
    await client.query(`INSERT INTO seed_projects (id) SELECT id FROM projects ORDER BY created_at, id LIMIT 10000`);
  }
  if ((counts.files > 0 || counts.activities > 0) && (await count(client, 'seed_projects')) === 0) {
    throw new Error('--files and --activities need projects: give --projects or seed a database that has some');
  }
  const projectsCte = `p AS (SELECT array_agg(id ORDER BY n) AS ids, count(*)::int AS k FROM seed_projects)`;

  await chunked('files', counts.files, async (from, to) => {
    await client.query(
      `WITH ${projectsCte}, src AS (
         SELECT g, p.ids[1 + (g % p.k)] AS project_id,
                '// seed ' || $3 || ' file ' || g || E'\\n' || repeat(E'export const value = 42;\\n', 1 + (g % 40)) AS content
           FROM generate_series($1::int, $2::int) g, p)
       INSERT INTO files (project_id, path, content, size_bytes, language, created_at, updated_at)
       SELECT project_id, 'seed-' || $3 || '/src/module-' || g || '.ts', content, octet_length(content),
              (${textArray(LANGUAGES)})[1 + (g % ${LANGUAGES.length})], ${spread(counts.files)}, ${spread(counts.files)}
         FROM src`,
      [from, to, tag],
    );
  });

  // Skew: the project at position floor(k * x^2), x low-discrepancy in [0, 1): the first project
  // gets about 1/sqrt(k) of all activities (1% of them for 10,000 projects), the last ones a few.
  await chunked('activities', counts.activities, async (from, to) => {
    await client.query(
      `WITH ${projectsCte}
       INSERT INTO agent_activities (project_id, agent, action, payload, created_at)
       SELECT p.ids[1 + floor(p.k * power(g * 0.6180339887498949 - floor(g * 0.6180339887498949), 2))::int],
              (${textArray(AGENTS)})[1 + (g % ${AGENTS.length})],
              (${textArray(ACTIONS)})[1 + ((g / ${AGENTS.length}) % ${ACTIONS.length})],
              CASE WHEN g % 10 = 0 THEN NULL
                   ELSE jsonb_build_object('seq', g, 'run', $3::text, 'tokens', (g * 7919) % 5000, 'file', 'src/module-' || (g % 500) || '.ts') END,
              ${spread(counts.activities)}
         FROM generate_series($1::bigint, $2::bigint) g, p`,
      [from, to, tag],
    );
  });

  await client.query('DROP TABLE IF EXISTS pg_temp.seed_users, pg_temp.seed_projects');
  // Fresh statistics, so the planner sees the new sizes at once.
  const t0 = performance.now();
  await client.query('ANALYZE users, projects, files, agent_activities');
  timings.push({ table: '(analyze)', rows: 0, seconds: (performance.now() - t0) / 1000, rowsPerSec: 0 });
  return { tag, timings, totalSeconds: (performance.now() - started) / 1000 };
}

async function count(client: Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0].n);
}

export function formatTimings(timings: readonly TableTiming[], totalSeconds: number): string {
  const lines = [['table', 'rows', 'seconds', 'rows/s']];
  for (const t of timings) lines.push([t.table, String(t.rows), t.seconds.toFixed(2), String(Math.round(t.rowsPerSec))]);
  const allRows = timings.reduce((a, t) => a + t.rows, 0);
  lines.push(['total', String(allRows), totalSeconds.toFixed(2), String(Math.round(allRows / totalSeconds))]);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/**
 * The database the app would use: DATABASE_URL, or the embedded PostgreSQL under EMBEDDED_PG_DIR
 * (started here, migrated, and stopped again at the end). When that embedded server is already
 * running (`npm start` in another terminal), it is used as it is and left running.
 */
export async function openAppDatabase(config: AppConfig): Promise<{ url: string; close: () => Promise<void>; where: string }> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => undefined, where: 'DATABASE_URL' };
  const embedded = new EmbeddedPostgres({ ...config.embeddedPg });
  const running = runningPostmaster(config.embeddedPg.dir) ? embedded.savedUrls() : undefined;
  if (running) {
    const client = new Client({ connectionString: running.appUrl });
    try {
      await client.connect();
      await client.end();
      return { url: running.appUrl, close: async () => undefined, where: `embedded PostgreSQL already running on ${config.embeddedPg.dir}` };
    } catch {
      // Not answering: EmbeddedPostgres.start() deals with a stale server.
    }
  }
  const { appUrl } = await embedded.start();
  return { url: appUrl, close: () => embedded.stop(), where: `embedded PostgreSQL ${config.embeddedPg.dir} (port ${config.embeddedPg.port})` };
}

function runningPostmaster(dir: string): boolean {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2));
  const unknown = args.unknown(['users', 'projects', 'files', 'activities', 'chunk', 'tag']);
  if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.map((u) => `--${u}`).join(' ')}`);
  const counts: SeedCounts = {
    users: args.int('users', 100),
    projects: args.int('projects', 10_000),
    files: args.int('files', 50_000),
    activities: args.int('activities', 1_000_000),
  };
  const chunk = args.int('chunk', 100_000, 1, 10_000_000);
  const tag = args.string('tag') ?? randomBytes(4).toString('hex');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(tag)) throw new Error('--tag: 1 to 32 letters, digits, _ or -');

  Logger.overrideLogger(['error', 'warn']);
  const config = AppConfig.fromEnv(process.env);
  const t0 = performance.now();
  const db = await openAppDatabase(config);
  // Ctrl-C: stop the embedded server we started (a statement in flight is rolled back by it).
  const interrupted = () => {
    process.stderr.write('\ninterrupted: stopping\n');
    void db.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (config.migrationsRun) await migrate(config, db.url);
    const startSeconds = (performance.now() - t0) / 1000;
    const client = new Client({ connectionString: db.url, application_name: 'seed' });
    await client.connect();
    try {
      const passwordHash = await hashPassword(SEED_PASSWORD);
      const result = await seed(client, counts, { chunk, tag, passwordHash });
      const command = `npm run seed -- --users ${counts.users} --projects ${counts.projects} --files ${counts.files} --activities ${counts.activities}`;
      console.log(`\nseeded ${db.where} (run tag ${result.tag}, ${chunk} rows per statement)`);
      console.log(`database start + migrations: ${startSeconds.toFixed(2)} s`);
      console.log(formatTimings(result.timings, result.totalSeconds));
      console.log(`\ncommand: ${command}`);
      if (counts.users > 0) {
        console.log(`users: seed-${result.tag}-1@seed.local ... seed-${result.tag}-${counts.users}@seed.local, password: ${SEED_PASSWORD}`);
      }
    } finally {
      await client.end();
    }
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write('\n');
    console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
