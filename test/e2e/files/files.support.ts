import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { aFile, TestUser } from '../../support/factories';

/** What the files API answers for one file. */
export interface FileBody {
  id: string;
  path: string;
  content: string;
  sizeBytes: number;
  language: string | null;
  createdAt: string;
  updatedAt: string;
}

export const filesUrl = (projectId: string) => `/api/projects/${projectId}/files`;
export const fileUrl = (projectId: string, fileId: string) => `/api/projects/${projectId}/files/${fileId}`;

/** Adds a file through the API; anything but a 201 fails the test that asked. */
export async function addFile(app: NestFastifyApplication, user: TestUser, projectId: string, overrides: Record<string, unknown> = {}): Promise<FileBody> {
  const res = await app.inject({ method: 'POST', url: filesUrl(projectId), headers: user.headers, payload: aFile(overrides) });
  if (res.statusCode !== 201) throw new Error(`file not created: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** The file's row as PostgreSQL stores it, with the content's byte length. */
export async function fileRow(db: DataSource, id: string) {
  const rows = await db.query(
    `SELECT project_id, path, content, size_bytes, octet_length(content) AS octets, language, created_at::text, updated_at::text
       FROM files WHERE id = $1`,
    [id],
  );
  return rows[0];
}
