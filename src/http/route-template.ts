import type { FastifyRequest } from 'fastify';

const template = Symbol('route-template');
type Noted = FastifyRequest & { [template]?: string | null };

/**
 * The matched route's template (`/api/projects/:id`), or undefined for an unmatched URL.
 * Fastify's `request.routeOptions` builds a fresh twelve-field object on every access, and a
 * cached GET asks for the template four times (metrics twice, the early answer, the cache key),
 * so it is read once per request and kept on it.
 */
export function routeTemplate(request: FastifyRequest): string | undefined {
  const noted = request as Noted;
  let url = noted[template];
  if (url === undefined) {
    url = request.routeOptions.url ?? null;
    noted[template] = url;
  }
  return url ?? undefined;
}
