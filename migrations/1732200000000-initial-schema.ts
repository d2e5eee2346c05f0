import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users, tokens, projects, files and agent activities, with the indexes the API's queries use.
 * Keyset pagination reads (owner, created_at DESC, id DESC), so those indexes carry the id too.
 */
export class InitialSchema1732200000000 implements MigrationInterface {
  name = 'InitialSchema1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        password_hash varchar(255) NOT NULL,
        role varchar(16) NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);
    await q.query(`CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash)`);
    await q.query(`CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id)`);

    await q.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(200) NOT NULL,
        description text,
        status varchar(16) NOT NULL DEFAULT 'active'
          CHECK (status IN ('active', 'archived', 'completed', 'draft')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX projects_user_id_idx ON projects (user_id)`);
    await q.query(`CREATE INDEX projects_user_id_created_at_idx ON projects (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX projects_status_idx ON projects (status)`);
    await q.query(
      `CREATE INDEX projects_user_id_status_idx ON projects (user_id, status, created_at DESC, id DESC)`,
    );

    await q.query(`
      CREATE TABLE files (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        path varchar(1024) NOT NULL,
        content text NOT NULL,
        size_bytes integer NOT NULL CHECK (size_bytes >= 0),
        language varchar(64),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX files_project_id_idx ON files (project_id)`);
    // Also serves keyset pages and prefix filters in path order (C collation: byte order).
    await q.query(`CREATE UNIQUE INDEX files_project_id_path_key ON files (project_id, path COLLATE "C")`);

    await q.query(`
      CREATE TABLE agent_activities (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        agent varchar(100) NOT NULL,
        action varchar(100) NOT NULL,
        payload jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX agent_activities_project_id_idx ON agent_activities (project_id)`);
    await q.query(
      `CREATE INDEX agent_activities_project_id_created_at_id_idx ON agent_activities (project_id, created_at, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_activities`);
    await q.query(`DROP TABLE files`);
    await q.query(`DROP TABLE projects`);
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE users`);
  }
}
