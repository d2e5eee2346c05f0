import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { HeaderObject, OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { CACHED_KEY } from '../cache/cached-options';
import { ANY_JSON_MARK } from '../http/any-json';
import { ErrorResponse } from '../http/api-errors.decorator';
import type { RateLimitStep } from '../http/rate-limit/rate-limit-step';
import type { RoutePolicy } from '../http/route-policy';
import type { RoutePolicies } from './route-policies';

/** Every tag an operation may carry, with what it groups; an operation with another tag fails the document. */
const TAGS: Readonly<Record<string, string>> = {
  auth: 'Log in with email and password, log out, who am I',
  users: 'User accounts and their tokens (admin only)',
  projects: 'Your projects',
  files: "A project's files",
  activities: "A project's stream of agent activities",
  health: 'Liveness and readiness, for load balancers and orchestrators',
  performance: 'Timings, cache and pool figures (admin only)',
  debug: 'Pool, cache and configuration diagnostics (admin only)',
};

const SECURITY_SCHEME = 'bearer';

const integer = { type: 'integer', minimum: 0 } as const;

/** The headers the pipeline sets, by name, as components the responses refer to. */
const HEADERS: Readonly<Record<string, HeaderObject>> = {
  'X-Request-Id': {
    description: 'The id of this request (a well-formed incoming X-Request-Id is echoed); also in error bodies and the log',
    required: true,
    schema: { type: 'string' },
  },
  'RateLimit-Limit': { description: 'Requests allowed per window by the tier closest to its limit (absent when rate limiting is off)', schema: integer },
  'RateLimit-Remaining': { description: 'Requests left in that window', schema: integer },
  'RateLimit-Reset': { description: 'Seconds until that window admits the next request; on a 429 the same as Retry-After', schema: integer },
  'X-RateLimit-Limit': { description: 'The same as RateLimit-Limit, for clients that read the older spelling', schema: integer },
  'X-RateLimit-Remaining': { description: 'The same as RateLimit-Remaining', schema: integer },
  'X-RateLimit-Reset': { description: 'The same as RateLimit-Reset', schema: integer },
  'Retry-After': { description: 'Seconds until the limiting tier admits the next request', required: true, schema: { type: 'integer', minimum: 1 } },
  ETag: { description: 'Validator of this body: send it back in If-None-Match to get a 304 while it is current', schema: { type: 'string' } },
  'X-Cache': { description: 'Whether the answer came from the response cache (STALE: an expired entry, served while the database is unavailable)', schema: { type: 'string', enum: ['HIT', 'MISS', 'STALE'] } },
  'Cache-Control': { description: 'private, no-cache: per-user answers, revalidated with the ETag', schema: { type: 'string' } },
};

const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const CACHE_HEADERS = ['ETag', 'X-Cache', 'Cache-Control'];

interface Answer {
  readonly error: string;
  readonly description: string;
  readonly message: string;
}

/** Each error status the API answers, with what it means and a message it really sends. */
const ANSWERS: Readonly<Record<number, Answer>> = {
  400: { error: 'Bad Request', description: 'Invalid input: one message per field, as "field: what is wrong"', message: 'limit: must be an integer from 1 to 100' },
  401: { error: 'Unauthorized', description: 'Missing, malformed, revoked or unknown bearer token', message: 'Authentication required' },
  403: { error: 'Forbidden', description: 'Authenticated, but the route is for admins', message: 'Admin role required' },
  404: { error: 'Not Found', description: 'Not found, or not yours', message: 'Project not found' },
  408: { error: 'Request Timeout', description: 'The body did not arrive within REQUEST_TIMEOUT_MS; the connection is closed', message: 'The request did not arrive in time (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS): send it faster' },
  409: { error: 'Conflict', description: 'Conflicts with an existing resource', message: 'path: this project already has a file at "src/main.ts"' },
  413: { error: 'Payload Too Large', description: 'The body (BODY_LIMIT_BYTES) or a field in it is over its size limit', message: 'Request body is too large' },
  414: { error: 'URI Too Long', description: 'A path parameter is longer than any id', message: "'/api/projects/aaaaaaaa…' is exceeding the max param length" },
  415: {
    error: 'Unsupported Media Type',
    description: 'A body that is not UTF-8 application/json, or a Content-Encoding (bodies are not decompressed)',
    message: 'Content-Encoding gzip is not supported: send the body uncompressed',
  },
  429: { error: 'Too Many Requests', description: 'Rate limited: retry after Retry-After seconds', message: 'Too many requests: user limit is 600 per 60 s; retry in 21 s' },
  503: { error: 'Service Unavailable', description: 'The database is busy or unavailable: retry shortly', message: 'The database is busy: no connection became available in time. Retry shortly.' },
};

const EXAMPLE_REQUEST_ID = '0b6f0c7e-6c1b-4f5e-9a55-2f1f1c6e2f7d';

/**
 * Serves the OpenAPI document (JSON at /docs-json, Swagger UI at /docs). Controllers and DTOs give
 * each operation its own part: parameters, body, success schema, and the errors its service raises
 * (@ApiErrors). What every request goes through is added here from the route's policy, the same
 * one the request pipeline (pipeline.ts) enforces, so the document cannot drift from it: security,
 * 400/401/403/413/415/429, the 304 of a cached route, and the headers each answer carries. The
 * document is built on first request, once every route and its policy is registered.
 */
export function setUpOpenApi(app: NestFastifyApplication, policies: RoutePolicies): void {
  const config = new DocumentBuilder()
    .setTitle('projects-backend')
    .setDescription(
      'Projects, files and agent activities. Every error answers `{statusCode, error, message, requestId}`; lists are keyset pages (pass `nextCursor` back as `cursor`).',
    )
    .setVersion('1')
    .setLicense('UNLICENSED (proprietary)', 'https://docs.npmjs.com/cli/v11/configuring-npm/package-json#license')
    // Relative: the origin that serves the document, wherever it is deployed or proxied.
    .addServer('/', 'The origin serving this document (npm start: http://localhost:3000)')
    // addSecurity, not addBearerAuth, which would claim the tokens are JWTs.
    .addSecurity(SECURITY_SCHEME, { type: 'http', scheme: 'bearer', description: 'An opaque token from POST /api/auth/login (or POST /api/users/{id}/tokens)' })
    .build();
  delete (config.info as { contact?: unknown }).contact;
  SwaggerModule.setup('docs', app, () => completeDocument(SwaggerModule.createDocument(app, config), policies), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function completeDocument(document: OpenAPIObject, policies: RoutePolicies): OpenAPIObject {
  anyJsonProperties(document);
  const used = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const route = policies.route(method, path.replace(/\{(\w+)\}/g, ':$1'));
      if (route === undefined || route.handler === undefined) throw new Error(`OpenAPI: ${where} is documented but is not a Nest route`);
      checkIdentity(operation, where);
      operation.tags!.forEach((tag) => used.add(tag));
      const { controller, method: name } = route.handler;
      const cached = Reflect.getMetadata(CACHED_KEY, (controller.prototype as Record<string, object>)[name]) !== undefined;
      completeOperation(operation, route.policy, { cached: cached && method === 'get', pathParams: path.includes('{') });
    }
  }
  document.tags = Object.entries(TAGS)
    .filter(([name]) => used.has(name))
    .map(([name, description]) => ({ name, description }));
  document.components = {
    ...document.components,
    headers: { ...HEADERS },
  };
  return document;
}

function anyJsonProperties(document: OpenAPIObject): void {
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    for (const [name, property] of Object.entries((schema as SchemaObject).properties ?? {})) {
      if (!(ANY_JSON_MARK in property)) continue;
      const { description, example } = property as SchemaObject;
      (schema as SchemaObject).properties![name] = { description, example };
    }
  }
}

/** A generator makes method names of operationIds and groups by tag: both must be deliberate. */
function checkIdentity(operation: OperationObject, where: string): void {
  if (!operation.operationId || operation.operationId.includes('_')) throw new Error(`OpenAPI: ${where} needs @ApiOperation({ operationId }) (a camelCase verb phrase)`);
  if (!operation.summary) throw new Error(`OpenAPI: ${where} needs a summary`);
  if (operation.tags?.length !== 1 || TAGS[operation.tags[0]] === undefined) throw new Error(`OpenAPI: ${where} needs one tag of ${Object.keys(TAGS).join(', ')}`);
}

function completeOperation(operation: OperationObject, policy: RoutePolicy, { cached, pathParams }: { cached: boolean; pathParams: boolean }): void {
  const identifies = policy.access === 'user' || policy.access === 'admin' || policy.access === 'public-identify';
  const limited = policy.rateLimits.length > 0 || identifies;
  const takesBody = operation.requestBody !== undefined;

  operation.security = securityOf(policy);
  operation.description = describe(policy, cached, takesBody, operation.description);
  const statuses = new Set(Object.keys(operation.responses).map(Number));
  // Unknown query parameters and malformed path parameters are refused on every route, and so
  // is a Content-Encoding (pipeline.ts).
  statuses.add(400).add(415);
  if (policy.access === 'user' || policy.access === 'admin') statuses.add(401);
  if (policy.access === 'admin') statuses.add(403);
  // A token that must be looked up counts in its client's anonymous tier, even on unthrottled routes.
  if (limited) statuses.add(429);
  // A body too slow to arrive (REQUEST_TIMEOUT_MS) is answered by client-errors.ts; one too large here.
  if (takesBody) statuses.add(408).add(413);
  // Fastify's router refuses a path parameter past maxParamLength (app.factory.ts's frameworkErrors).
  if (pathParams) statuses.add(414);

  const rateHeaders = limited ? RATE_LIMIT_HEADERS : [];
  const responses: Record<string, ResponseObject | ReferenceObject> = {};
  for (const status of statuses) {
    const given = operation.responses[status] as ResponseObject | undefined;
    if (status < 400) {
      const extra = cached && status === 200 ? CACHE_HEADERS : [];
      responses[status] = { ...given!, description: given!.description || SUCCESS[status] || 'Success', headers: headersOf(['X-Request-Id', ...rateHeaders, ...extra]) };
    } else {
      responses[status] = errorAnswer(status, given, rateHeaders);
    }
  }
  if (cached) {
    responses[304] = {
      description: 'Not modified: the If-None-Match ETag is current. No body.',
      headers: headersOf(['X-Request-Id', ...rateHeaders, ...CACHE_HEADERS]),
    };
  }
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

const SUCCESS: Readonly<Record<number, string>> = { 200: 'OK', 201: 'Created', 204: 'Done; no body' };

const WHO: Readonly<Record<RateLimitStep['who'], string>> = { user: 'per user', 'anonymous-ip': 'per client address while anonymous', ip: 'per client address' };

/** What every caller of the operation should know, from the same policy the pipeline enforces. */
function describe(policy: RoutePolicy, cached: boolean, takesBody: boolean, own: string | undefined): string {
  const lines = own ? [own] : [];
  lines.push(
    {
      user: 'Needs a bearer token; answers with your own data only.',
      admin: 'Needs the bearer token of an admin.',
      public: 'Needs no token.',
      'public-identify': 'Needs no token; with an admin token the answer has more detail.',
    }[policy.access],
  );
  if (policy.rateLimits.length > 0) {
    const tiers = new Map<RateLimitStep['who'], string[]>();
    for (const step of policy.rateLimits) tiers.set(step.who, [...(tiers.get(step.who) ?? []), step.tier]);
    lines.push(`Rate-limited ${[...tiers].map(([who, names]) => `${WHO[who]} (${names.join(', ')})`).join(', ')}.`);
  }
  if (takesBody) lines.push('Takes UTF-8 application/json of at most BODY_LIMIT_BYTES; a field the schema does not list is refused.');
  if (cached) lines.push('Cached per user: send the ETag back in If-None-Match to get a 304 while it is current; a write to what it shows makes it fresh at once.');
  return lines.join(' ');
}

function securityOf(policy: RoutePolicy): Record<string, string[]>[] {
  if (policy.access === 'public') return [];
  // Anyone; a valid token shows an admin more (an empty requirement means "no token needed").
  if (policy.access === 'public-identify') return [{}, { [SECURITY_SCHEME]: [] }];
  return [{ [SECURITY_SCHEME]: [] }];
}

function headersOf(names: string[]): Record<string, ReferenceObject> {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

/**
 * The error answer for a status. A route's own schema for it (the health checks answer 503 in
 * their own shape) is kept; otherwise it is the one error shape with an example of its status.
 */
function errorAnswer(status: number, given: ResponseObject | undefined, rateHeaders: string[]): ResponseObject {
  const answer = ANSWERS[status];
  if (answer === undefined) throw new Error(`OpenAPI: no standard answer for status ${status}`);
  const headers = headersOf(status === 429 ? ['X-Request-Id', 'Retry-After', ...RATE_LIMIT_HEADERS] : ['X-Request-Id', ...rateHeaders]);
  const schema = given?.content?.['application/json']?.schema as ReferenceObject | undefined;
  if (schema !== undefined && schema.$ref !== `#/components/schemas/${ErrorResponse.name}`) return { ...given!, headers };
  return {
    description: given?.description || answer.description,
    headers,
    content: {
      'application/json': {
        schema: { $ref: `#/components/schemas/${ErrorResponse.name}` },
        example: { statusCode: status, error: answer.error, message: answer.message, requestId: EXAMPLE_REQUEST_ID },
      },
    },
  };
}
