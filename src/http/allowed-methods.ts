import type { FastifyInstance, HTTPMethods, RouteOptions } from 'fastify';

// The order Allow lists them in; a method not here follows, alphabetically.
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
// A route at this URL matches every path: @fastify/cors' preflight (OPTIONS *).
const EVERY_PATH = new Set(['*', '/*']);

/**
 * Which methods Fastify's own router answers at a URL, for the Allow header of a 405. Asks the
 * router (`findRoute`, which matches a URL as a request would) once per method that has routes,
 * so it agrees with routing on parameters, trailing slashes and HEAD routes; no path is matched
 * here by hand. Only an unmatched request pays for it.
 */
export class AllowedMethods {
  private methods: string[] = [];
  private readonly everyPath = new Set<string>();

  constructor(private readonly fastify: FastifyInstance) {}

  /** For Fastify's onRoute hook (HEAD routes Fastify adds for GET routes come through it too). */
  note(route: RouteOptions): void {
    for (const method of [route.method].flat()) {
      if (EVERY_PATH.has(route.url)) this.everyPath.add(method);
      if (!this.methods.includes(method)) this.methods = [...this.methods, method].sort(byOrder);
    }
  }

  /**
   * The methods with a route at `url` (a request's URL, query included), in the order of ORDER;
   * none when the path is unknown. A method routed on every path is listed where the path is
   * known, but never makes it known.
   */
  at(url: string): string[] {
    const found = this.methods.filter((method) => !this.everyPath.has(method) && this.routes(method, url));
    if (found.length === 0) return found;
    return this.methods.filter((method) => this.everyPath.has(method) || found.includes(method));
  }

  private routes(method: string, url: string): boolean {
    // The router answers a malformed URL or an over-long parameter with a handler of Fastify's
    // frameworkErrors, which is no route; only a route's match carries the parsed query.
    // (Fastify's types leave out the null it answers for no match.)
    const match = this.fastify.findRoute({ method: method as HTTPMethods, url }) as ReturnType<FastifyInstance['findRoute']> | null;
    return match?.searchParams !== undefined;
  }
}

function byOrder(a: string, b: string): number {
  const rank = (m: string) => (ORDER.includes(m) ? ORDER.indexOf(m) : ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}
