import { readFileSync } from 'node:fs';
import type { Type } from '@nestjs/common';
import { ActivityController } from '../../src/activities/activity.controller';
import { AuthController } from '../../src/auth/auth.controller';
import { UsersController } from '../../src/auth/users.controller';
import { DebugController } from '../../src/debugging/debug.controller';
import { FileController } from '../../src/files/file.controller';
import { HealthController } from '../../src/monitoring/health.controller';
import { PerformanceController } from '../../src/monitoring/performance.controller';
import { ProjectController } from '../../src/projects/project.controller';
import { OPENAPI_DOCUMENT } from '../support/contract';
import { declaredRoutes } from '../support/routes';
import { bootApp, TestApp } from '../support/test-app';

/** Every controller the document covers; /metrics (Prometheus text, not JSON) is left out on purpose. */
const CONTROLLERS: Type[] = [AuthController, UsersController, ProjectController, FileController, ActivityController, HealthController, PerformanceController, DebugController];

type Method = 'get' | 'post' | 'patch' | 'delete';
type Access = 'user' | 'admin' | 'public' | 'optional';

interface Expected {
  readonly method: Method;
  /** OpenAPI form: /api/projects/{id}. */
  readonly path: string;
  readonly operationId: string;
  readonly access: Access;
  /** Success status and the schema of its body (undefined: no body). */
  readonly success: [status: number, schema?: string];
  readonly requestBody?: string;
  readonly query?: string[];
  /** Every status the operation can answer, success included (414 added for path parameters). */
  readonly statuses: number[];
}

// What any request can be refused with before the handler: a bad query or path parameter (400),
// a Content-Encoding (415), a rate limit (429). Token routes add 401 (and 403 for admin routes);
// routes with a body add 408, 413; routes with path parameters 414 (one longer than any id);
// handlers that reach the database add 503.
const USER = [400, 401, 415, 429, 503];
const ADMIN = [...USER, 403];
const BODY = [408, 413];

const ROUTES: Expected[] = [
  { method: 'post', path: '/api/auth/login', operationId: 'login', access: 'public', success: [201, 'LoginResponse'], requestBody: 'LoginBody', statuses: [201, 400, 401, 415, 429, 503, ...BODY] },
  { method: 'post', path: '/api/auth/logout', operationId: 'logout', access: 'user', success: [204], statuses: [204, ...USER] },
  { method: 'get', path: '/api/auth/me', operationId: 'getCurrentUser', access: 'user', success: [200, 'UserDto'], statuses: [200, ...USER] },
  { method: 'post', path: '/api/users', operationId: 'createUser', access: 'admin', success: [201, 'UserDetailsDto'], requestBody: 'CreateUserBody', statuses: [201, 409, ...ADMIN, ...BODY] },
  { method: 'get', path: '/api/users', operationId: 'listUsers', access: 'admin', success: [200, 'UserPage'], query: ['limit', 'cursor'], statuses: [200, ...ADMIN] },
  { method: 'post', path: '/api/users/{id}/tokens', operationId: 'issueUserToken', access: 'admin', success: [201, 'TokenResponse'], statuses: [201, 404, ...ADMIN] },
  { method: 'post', path: '/api/projects', operationId: 'createProject', access: 'user', success: [201, 'ProjectDto'], requestBody: 'CreateProjectBody', statuses: [201, ...USER, ...BODY] },
  { method: 'get', path: '/api/projects', operationId: 'listProjects', access: 'user', success: [200, 'ProjectPage'], query: ['limit', 'cursor', 'status'], statuses: [200, 304, ...USER] },
  { method: 'post', path: '/api/projects/batch-get', operationId: 'batchGetProjects', access: 'user', success: [200, 'ProjectList'], requestBody: 'BatchGetBody', statuses: [200, ...USER, ...BODY] },
  { method: 'patch', path: '/api/projects/status', operationId: 'updateProjectStatuses', access: 'user', success: [200, 'BulkStatusResponse'], requestBody: 'BulkStatusBody', statuses: [200, ...USER, ...BODY] },
  { method: 'get', path: '/api/projects/{id}', operationId: 'getProject', access: 'user', success: [200, 'ProjectDetailDto'], query: ['include'], statuses: [200, 304, 404, ...USER] },
  { method: 'patch', path: '/api/projects/{id}', operationId: 'updateProject', access: 'user', success: [200, 'ProjectDto'], requestBody: 'UpdateProjectBody', statuses: [200, 404, ...USER, ...BODY] },
  { method: 'delete', path: '/api/projects/{id}', operationId: 'deleteProject', access: 'user', success: [204], statuses: [204, 404, ...USER] },
  { method: 'post', path: '/api/projects/{id}/files', operationId: 'createFile', access: 'user', success: [201, 'FileDto'], requestBody: 'CreateFileBody', statuses: [201, 404, 409, ...USER, ...BODY] },
  { method: 'get', path: '/api/projects/{id}/files', operationId: 'listFiles', access: 'user', success: [200, 'FilePage'], query: ['limit', 'cursor', 'prefix'], statuses: [200, 304, 404, ...USER] },
  { method: 'get', path: '/api/projects/{id}/files/{fileId}', operationId: 'getFile', access: 'user', success: [200, 'FileDto'], statuses: [200, 304, 404, ...USER] },
  { method: 'patch', path: '/api/projects/{id}/files/{fileId}', operationId: 'updateFile', access: 'user', success: [200, 'FileDto'], requestBody: 'UpdateFileBody', statuses: [200, 404, 409, ...USER, ...BODY] },
  { method: 'delete', path: '/api/projects/{id}/files/{fileId}', operationId: 'deleteFile', access: 'user', success: [204], statuses: [204, 404, ...USER] },
  { method: 'post', path: '/api/projects/{id}/activities', operationId: 'createActivity', access: 'user', success: [201, 'ActivityDto'], requestBody: 'CreateActivityBody', statuses: [201, 404, ...USER, ...BODY] },
  {
    method: 'get',
    path: '/api/projects/{id}/activities',
    operationId: 'listActivities',
    access: 'user',
    success: [200, 'ActivityPage'],
    query: ['limit', 'cursor', 'agent', 'action', 'since', 'until', 'order'],
    statuses: [200, 304, 404, ...USER],
  },
  { method: 'post', path: '/api/projects/{id}/activities/batch', operationId: 'createActivities', access: 'user', success: [201, 'ActivityList'], requestBody: 'CreateActivityBatchBody', statuses: [201, 404, ...USER, ...BODY] },
  // Health answers in @nestjs/terminus' shape (readiness's 503 in the error shape too). A token is
  // optional (an admin sees details); one that must be looked up counts in the anonymous tier,
  // hence 429. Liveness never touches the database, and the boot probe answers it 200.
  { method: 'get', path: '/health/live', operationId: 'getLiveness', access: 'optional', success: [200, 'HealthDto'], statuses: [200, 400, 415, 429] },
  { method: 'get', path: '/health/ready', operationId: 'getReadiness', access: 'optional', success: [200, 'HealthDto'], statuses: [200, 400, 415, 429, 503] },
  { method: 'get', path: '/api/performance/metrics', operationId: 'getPerformanceMetrics', access: 'admin', success: [200, 'PerformanceMetricsDto'], statuses: [200, ...ADMIN] },
  { method: 'get', path: '/api/performance/timing/{operation}', operationId: 'getOperationTiming', access: 'admin', success: [200, 'OperationTimingDto'], statuses: [200, 404, ...ADMIN] },
  { method: 'post', path: '/api/performance/reset', operationId: 'resetPerformanceMetrics', access: 'admin', success: [204], statuses: [204, ...ADMIN] },
  // 404 on every debug route: DEBUG_ROUTES_ENABLED=false leaves them out.
  { method: 'get', path: '/debug/pool-status', operationId: 'getPoolStatus', access: 'admin', success: [200, 'PoolStatusDto'], statuses: [200, 404, ...ADMIN] },
  { method: 'get', path: '/debug/db-test', operationId: 'runDbTest', access: 'admin', success: [200, 'DbTestDto'], query: ['num_tests', 'delay'], statuses: [200, 404, ...ADMIN] },
  { method: 'get', path: '/debug/cache', operationId: 'getCacheStats', access: 'admin', success: [200, 'CacheReportDto'], statuses: [200, 404, ...ADMIN] },
  { method: 'post', path: '/debug/cache/flush', operationId: 'flushCaches', access: 'admin', success: [200, 'CacheReportDto'], statuses: [200, 404, ...ADMIN] },
  { method: 'get', path: '/debug/config', operationId: 'getEffectiveConfig', access: 'admin', success: [200, 'EffectiveConfigDto'], statuses: [200, 404, ...ADMIN] },
];

const SECURITY: Record<Access, unknown[]> = {
  user: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  public: [],
  optional: [{}, { bearer: [] }],
};

const ref = (schema: string) => `#/components/schemas/${schema}`;
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const toFastify = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
const toOpenApi = (path: string) => path.replace(/:(\w+)/g, '{$1}');

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown>; style?: string; explode?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description: string; headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: { $ref?: string }; example?: { statusCode: number } }> }>;
}

interface Document {
  openapi: string;
  info: { license?: { name: string; url?: string } };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>>; required?: string[] }>; securitySchemes: Record<string, Record<string, unknown>>; headers: Record<string, { required?: boolean }> };
}

describe('OpenAPI document (real PostgreSQL)', () => {
  let sut: TestApp;
  let doc: Document;

  beforeAll(async () => {
    sut = await bootApp();
    const res = await sut.app.inject({ method: 'GET', url: '/docs-json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json();
  });

  afterAll(async () => {
    await sut.close();
  });

  const operation = (r: Expected): Operation => doc.paths[r.path]?.[r.method];
  const operations = () => Object.values(doc.paths).flatMap((item) => Object.values(item));

  it('docs/openapi.json is exactly what the code generates (regenerate it with npm run openapi)', () => {
    expect(JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8'))).toEqual(doc);
  });

  it('is OpenAPI 3.0 with an opaque bearer scheme, a server and a license', () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', description: expect.stringContaining('opaque') } });
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.name).toBeTruthy();
  });

  it('the expected list is exactly what the controllers declare, and Fastify serves each of them', () => {
    const fastify = sut.app.getHttpAdapter().getInstance();
    const declared = declaredRoutes(CONTROLLERS).map((route) => {
      const [method, path] = route.split(' ');
      return key(method, toOpenApi(path));
    });

    expect(ROUTES.map((r) => key(r.method, r.path)).sort()).toEqual(declared.sort());
    for (const r of ROUTES) {
      const route = key(r.method, r.path);
      expect({ route, served: fastify.hasRoute({ method: r.method.toUpperCase() as 'GET', url: toFastify(r.path) }) }).toEqual({ route, served: true });
    }
  });

  it('documents no operation that is not in the list', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => key(method, path)));
    expect(documented.sort()).toEqual(ROUTES.map((r) => key(r.method, r.path)).sort());
  });

  it('gives every operation a unique camelCase operationId, a summary, a description and one tag the document defines', () => {
    const ids = operations().map((op) => op.operationId);
    const tags = new Set(doc.tags?.map((tag) => tag.name));

    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations()) {
      expect({ id: op.operationId, camel: /^[a-z][a-zA-Z]+$/.test(op.operationId ?? '') }).toEqual({ id: op.operationId, camel: true });
      expect({ id: op.operationId, summary: Boolean(op.summary), description: Boolean(op.description), tags: op.tags?.filter((tag) => tags.has(tag)).length }).toEqual({
        id: op.operationId,
        summary: true,
        description: true,
        tags: 1,
      });
    }
    expect(doc.tags?.every((tag) => tag.description)).toBe(true);
  });

  const withPathLimit = (r: Expected): Expected => (r.path.includes('{') ? { ...r, statuses: [...r.statuses, 414] } : r);

  describe.each(ROUTES.map(withPathLimit).map((r) => ({ ...r, route: key(r.method, r.path) })))('$route', (r) => {
    it(`is ${r.operationId}, ${r.access === 'optional' ? 'with an optional token' : r.access === 'public' ? 'with no token' : `with a${r.access === 'admin' ? 'n admin' : ''} bearer token`}`, () => {
      expect(operation(r)?.operationId).toBe(r.operationId);
      expect(operation(r)?.security).toEqual(SECURITY[r.access]);
    });

    it(`documents its path parameters as UUIDs${r.query ? ` and its query parameters ${r.query.join(', ')}` : ''}`, () => {
      const params = operation(r)?.parameters ?? [];
      const pathNames = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const format = (name: string) => (name === 'operation' ? undefined : 'uuid');

      expect(params.filter((p) => p.in === 'path').map((p) => [p.name, p.required, p.schema?.format])).toEqual(pathNames.map((n) => [n, true, format(n)]));
      expect(params.filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual([...(r.query ?? [])].sort());
    });

    it(`takes ${r.requestBody ?? 'no body'}`, () => {
      const body = operation(r)?.requestBody;
      if (r.requestBody) expect(body?.content['application/json']?.schema.$ref).toBe(ref(r.requestBody));
      else expect(body).toBeUndefined();
    });

    it(`answers exactly ${[...r.statuses].sort().join(', ')}; ${r.success[0]}${r.success[1] ? ` with ${r.success[1]}` : ' without a body'}`, () => {
      const responses = operation(r)?.responses ?? {};
      const success = responses[String(r.success[0])];

      expect(Object.keys(responses).map(Number).sort()).toEqual([...r.statuses].sort());
      if (r.success[1]) expect(success?.content?.['application/json']?.schema.$ref).toBe(ref(r.success[1]));
      if (r.success[0] === 204) expect(success?.content).toBeUndefined();
    });

    it('declares each error in the error shape with an example of its own status, and the headers of every answer', () => {
      const responses = operation(r)?.responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        const headers = Object.keys(response.headers ?? {});
        expect({ status, requestId: headers.includes('X-Request-Id') }).toEqual({ status, requestId: true });
        if (status === '429') expect({ status, headers }).toEqual({ status, headers: expect.arrayContaining(['Retry-After', 'RateLimit-Reset']) });
        if (status === '304') expect({ status, headers, content: response.content }).toEqual({ status, headers: expect.arrayContaining(['ETag']), content: undefined });
        if (Number(status) < 400) continue;
        const json = response.content?.['application/json'];
        const shape = r.path === '/health/ready' && status === '503' ? 'HealthUnavailableDto' : 'ErrorResponse';
        expect({ status, schema: json?.schema.$ref }).toEqual({ status, schema: ref(shape) });
        if (shape === 'ErrorResponse') expect({ status, example: json?.example?.statusCode }).toEqual({ status, example: Number(status) });
      }
    });
  });

  it('types text fields as strings, counts as integers, any JSON as any JSON, and enforced enums as enums', () => {
    const { schemas } = doc.components;
    const property = (schema: string, name: string) => schemas[schema]?.properties?.[name];
    const queryParam = (path: string, method: Method, name: string) => doc.paths[path][method].parameters?.find((p) => p.name === name);

    for (const [schema, name] of [
      ['CreateProjectBody', 'description'],
      ['UpdateProjectBody', 'description'],
      ['CreateFileBody', 'language'],
      ['UpdateFileBody', 'language'],
    ]) {
      expect({ schema, name, ...property(schema, name) }).toMatchObject({ schema, name, type: 'string', nullable: true });
    }
    for (const [schema, name] of [
      ['CreateActivityBody', 'payload'],
      ['ActivityDto', 'payload'],
      ['ProjectActivitySummaryDto', 'payload'],
    ]) {
      const { description: _d, example: _e, ...rest } = property(schema, name) ?? {};
      expect({ schema, name, rest }).toEqual({ schema, name, rest: {} });
    }
    expect(queryParam('/api/projects', 'get', 'limit')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(queryParam('/api/projects/{id}', 'get', 'include')).toMatchObject({ style: 'form', explode: false, schema: { type: 'array', items: { enum: ['files', 'activities'] } } });
    expect(queryParam('/api/projects/{id}/activities', 'get', 'order')?.schema).toMatchObject({ enum: ['asc', 'desc'] });
    expect(property('FileDto', 'sizeBytes')).toMatchObject({ type: 'integer' });
    // Optional with a default stays optional: a generated client must not demand it.
    expect(schemas.CreateProjectBody.required).toEqual(['name']);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await sut.app.inject({ method: 'GET', url: '/docs' });

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
    expect(res.body).toContain('swagger-ui');
  });
});
