import type { FastifyRequest } from 'fastify';

/**
 * Who the access check identified, as far as the HTTP layer needs to know: rate limits and cached
 * answers are kept per caller id. The full user (role, email) is the access layer's AuthUser.
 */
export interface Caller {
  readonly id: string;
}

export type CallerRequest = FastifyRequest & { user?: Caller };
