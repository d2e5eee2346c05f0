import type { Caller } from '../http/caller';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as resolved from the bearer token. */
export interface AuthUser extends Caller {
  readonly email: string;
  readonly role: Role;
}
