import { readFileSync } from 'node:fs';

export interface EmbeddedRole {
  readonly user: string;
  readonly password: string;
}

/** The embedded PostgreSQL's credentials file, where README says it is: beside the data folder. */
export function embeddedCredentialsFile(clusterDir: string): string {
  return `${clusterDir}-credentials.json`;
}

export function readEmbeddedCredentials(clusterDir: string): { superuser: EmbeddedRole; app: EmbeddedRole } {
  return JSON.parse(readFileSync(embeddedCredentialsFile(clusterDir), 'utf8'));
}

export function embeddedUrl(role: EmbeddedRole, port: number, database: string): string {
  return `postgres://${role.user}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${database}`;
}
