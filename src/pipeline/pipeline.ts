import { BadRequestException, HttpException, Logger, MethodNotAllowedException, NotFoundException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AccessCheck } from '../access/access-check';
import type { AuthenticatedRequest } from '../access/auth.decorators';
import { CacheService } from '../cache/cache.service';
import { entryOf, prepareCached } from '../cache/cached-response';
import { toErrorBody } from '../http/all-exceptions.filter';
import { AllowedMethods } from '../http/allowed-methods';
import { policyOf, RoutePolicy, routeTemplate } from '../http/route-policy';
import { API_HEADERS, documentHeaders } from '../http/security';
import { HttpMetrics } from '../monitoring/http-metrics';
import { RoutePolicies } from './route-policies';

type ExternalPolicy = Omit<RoutePolicy, 'template'>;

const OPEN: Omit<ExternalPolicy, 'headers'> = {
  external: true,
  access: 'public',
  rateLimits: [],
  queryKeys: new Set(),
  earlyCache: undefined,
};

/**
 * The whole path of a request through Fastify, in order, before Nest's router sees it:
 *
 *   onRequest  0. CORS, when CORS_ORIGINS is set (Nest's Fastify adapter registers its hook first,
 *                 so even a refusal below carries the CORS headers a browser needs to read it)
 *              1. request id echoed, security headers (the API set, or helmet's under /docs)
 *              2. metrics: in flight, labelled by route template
 *              3. unmatched URL: 405 with Allow when the path has routes for other methods, else
 *                 404, here (Fastify would otherwise read and parse its body)
 *              4. access: bearer token -> rate limit -> 401/403/429 (src/access/access-check.ts)
 *              5. query: a parameter the route does not take is a 400
 *              6. Content-Encoding other than identity: 415 (bodies are not decompressed)
 *              7. a cache hit of a @Cached route is answered here from L1
 *   (Fastify)  body read within BODY_LIMIT_BYTES and REQUEST_TIMEOUT_MS, parsed (json-body.ts)
 *   (Nest)     AccessGuard only checks step 4 ran, validation, controller, service, repository
 *   onResponse metrics observed, one log line
 *
 * So nothing refused in steps 3-6 costs a body read, a parse or a query. Every route carries its
 * policy (route-policies.ts), worked out once at boot from the controller's decorators; a route
 * without one fails the boot.
 */
export function installPipeline(app: NestFastifyApplication, options: { cacheEnabled: boolean }): RoutePolicies {
  const fastify = app.getHttpAdapter().getInstance();
  const access = app.get(AccessCheck);
  const cache = app.get(CacheService);
  const metrics = app.get(HttpMetrics);
  const logger = new Logger('Errors');
  const page: ExternalPolicy = { ...OPEN, headers: documentHeaders() };
  const open: ExternalPolicy = { ...OPEN, headers: API_HEADERS };

  const policies = new RoutePolicies(app, API_HEADERS, (route: RouteOptions) => {
    // Swagger UI (an HTML page) and its document, and @fastify/cors' preflight route: no data, no token.
    if (/^\/docs(?:\/|$)/.test(route.url)) return page;
    if (/^\/docs-(?:json|yaml)$/.test(route.url)) return open;
    if ([route.method].flat().every((method) => method === 'OPTIONS')) return open;
    return undefined;
  });
  policies.tagHandlers();
  const allowed = new AllowedMethods(fastify);
  fastify.addHook('onRoute', (route) => {
    policies.complete(route);
    allowed.note(route);
  });

  const refuse = (request: FastifyRequest, reply: FastifyReply, err: unknown): void => {
    const body = toErrorBody(err, request.id, logger);
    void reply.code(body.statusCode).send(body);
  };

  const admitted = (request: AuthenticatedRequest, reply: FastifyReply, policy: RoutePolicy, done: HookHandlerDoneFunction): void => {
    const refused = queryProblem(request, policy) ?? encodingProblem(request);
    if (refused !== undefined) return refuse(request, reply, refused);
    const cached = policy.earlyCache;
    if (cached !== undefined && options.cacheEnabled && request.method === 'GET' && request.user !== undefined) {
      const { key, tags } = entryOf(request, policy.template, request.user, cached);
      const hit = cache.responses.peek(key, tags);
      if (hit !== undefined) {
        void reply.send(prepareCached(request, reply, hit, 'HIT'));
        return;
      }
    }
    done();
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    const policy = policyOf(request);
    reply.header('x-request-id', request.id);
    reply.headers(policy?.headers ?? API_HEADERS);
    metrics.started(request);
    if (policy === undefined) return refuse(request, reply, unmatched(request, reply, allowed));
    if (policy.external) return done();
    const outcome = access.run(request, reply, policy);
    if (outcome === undefined) return admitted(request, reply, policy, done);
    if (outcome instanceof HttpException) return refuse(request, reply, outcome);
    outcome.then(
      (refused) => (refused === undefined ? admitted(request, reply, policy, done) : refuse(request, reply, refused)),
      (err: unknown) => refuse(request, reply, err),
    );
  });

  // One line per request at info; with info off (e.g. LOG_LEVEL=warn) nothing is built for it.
  const logRequests = (fastify.log as unknown as Pino).isLevelEnabled('info');
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.answered(request, reply);
    if (logRequests) {
      request.log.info(
        { method: request.method, route: routeTemplate(request) ?? 'unmatched', statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 },
        'request completed',
      );
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    metrics.aborted(request);
    done();
  });
  return policies;
}

/** 405 with Allow for a path that has routes for other methods, else 404. */
function unmatched(request: FastifyRequest, reply: FastifyReply, allowed: AllowedMethods): HttpException {
  const methods = allowed.at(request.url);
  if (methods.length === 0) return new NotFoundException(`Cannot ${request.method} ${request.url}`);
  const list = methods.join(', ');
  reply.header('allow', list);
  return new MethodNotAllowedException(`Cannot ${request.method} ${request.url}: this path allows ${list}`);
}

/** A query parameter the route does not take, `__proto__` and `constructor` included. */
function queryProblem(request: FastifyRequest, policy: RoutePolicy): HttpException | undefined {
  const query = request.query as Record<string, unknown>;
  for (const key in query) {
    if (!policy.queryKeys.has(key)) {
      const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      return new BadRequestException(`${shown}: is not allowed`);
    }
  }
  return undefined;
}

function encodingProblem(request: FastifyRequest): HttpException | undefined {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return undefined;
  return new UnsupportedMediaTypeException(`Content-Encoding ${encoding.slice(0, 32)} is not supported: send the body uncompressed`);
}
