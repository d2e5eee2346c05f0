import type { Type } from '@nestjs/common';
import { ActivityController } from '../../src/activities/activity.controller';
import { AuthController } from '../../src/auth/auth.controller';
import { UsersController } from '../../src/auth/users.controller';
import { FileController } from '../../src/files/file.controller';
import { HealthController } from '../../src/monitoring/health.controller';
import { ProjectController } from '../../src/projects/project.controller';
import { declaredRoutes } from '../support/routes';
import { bootApp, TestApp } from '../support/test-app';

/**
 * The controllers this spec covers. Routes of other controllers (metrics, performance, debug) are
 * someone else's: they are neither expected nor refused here.
 */
const CONTROLLERS: Type[] = [AuthController, UsersController, ProjectController, FileController, ActivityController, HealthController];
const NOT_COVERED = [/^\/metrics/, /^\/api\/performance/, /^\/debug/];

type Method = 'get' | 'post' | 'patch' | 'delete';

interface Expected {
  readonly method: Method;
  /** OpenAPI form: /api/projects/{id}. */
  readonly path: string;
  readonly bearer: boolean;
  /** Success status and the schema of its body (undefined: no body). */
  readonly success: [status: number, schema?: string];
  readonly requestBody?: string;
  readonly query?: string[];
  /** Error statuses the route can answer, per its code. */
  readonly errors: number[];
}

const ROUTES: Expected[] = [
  { method: 'post', path: '/api/auth/login', bearer: false, success: [201, 'LoginResponse'], requestBody: 'LoginBody', errors: [400, 401, 429] },
  { method: 'post', path: '/api/auth/logout', bearer: true, success: [204], errors: [401] },
  { method: 'get', path: '/api/auth/me', bearer: true, success: [200, 'UserDto'], errors: [401] },
  { method: 'post', path: '/api/users', bearer: true, success: [201, 'UserDetailsDto'], requestBody: 'CreateUserBody', errors: [400, 401, 403, 409] },
  { method: 'get', path: '/api/users', bearer: true, success: [200, 'UserPage'], query: ['limit', 'cursor'], errors: [400, 401, 403] },
  { method: 'post', path: '/api/users/{id}/tokens', bearer: true, success: [201, 'TokenResponse'], errors: [400, 401, 403, 404] },
  { method: 'post', path: '/api/projects', bearer: true, success: [201, 'ProjectDto'], requestBody: 'CreateProjectBody', errors: [400, 401] },
  { method: 'get', path: '/api/projects', bearer: true, success: [200, 'ProjectPage'], query: ['limit', 'cursor', 'status'], errors: [400, 401] },
  { method: 'post', path: '/api/projects/batch-get', bearer: true, success: [200, 'ProjectList'], requestBody: 'BatchGetBody', errors: [400, 401] },
  { method: 'patch', path: '/api/projects/status', bearer: true, success: [200, 'BulkStatusResponse'], requestBody: 'BulkStatusBody', errors: [400, 401] },
  { method: 'get', path: '/api/projects/{id}', bearer: true, success: [200, 'ProjectDetailDto'], query: ['include'], errors: [400, 401, 404] },
  { method: 'patch', path: '/api/projects/{id}', bearer: true, success: [200, 'ProjectDto'], requestBody: 'UpdateProjectBody', errors: [400, 401, 404] },
  { method: 'delete', path: '/api/projects/{id}', bearer: true, success: [204], errors: [400, 401, 404] },
  { method: 'post', path: '/api/projects/{id}/files', bearer: true, success: [201, 'FileDto'], requestBody: 'CreateFileBody', errors: [400, 401, 404, 409, 413] },
  { method: 'get', path: '/api/projects/{id}/files', bearer: true, success: [200, 'FilePage'], query: ['limit', 'cursor', 'prefix'], errors: [400, 401, 404] },
  { method: 'get', path: '/api/projects/{id}/files/{fileId}', bearer: true, success: [200, 'FileDto'], errors: [400, 401, 404] },
  { method: 'patch', path: '/api/projects/{id}/files/{fileId}', bearer: true, success: [200, 'FileDto'], requestBody: 'UpdateFileBody', errors: [400, 401, 404, 409, 413] },
  { method: 'delete', path: '/api/projects/{id}/files/{fileId}', bearer: true, success: [204], errors: [400, 401, 404] },
  { method: 'post', path: '/api/projects/{id}/activities', bearer: true, success: [201, 'ActivityDto'], requestBody: 'CreateActivityBody', errors: [400, 401, 404, 413] },
  {
    method: 'get',
    path: '/api/projects/{id}/activities',
    bearer: true,
    success: [200, 'ActivityPage'],
    query: ['limit', 'cursor', 'agent', 'action', 'since', 'until', 'order'],
    errors: [400, 401, 404],
  },
  { method: 'post', path: '/api/projects/{id}/activities/batch', bearer: true, success: [201, 'ActivityList'], requestBody: 'CreateActivityBatchBody', errors: [400, 401, 404, 413] },
  // Health answers in @nestjs/terminus' own shape, documented by @HealthCheck(), not ErrorResponse.
  { method: 'get', path: '/health/live', bearer: false, success: [200], errors: [] },
  { method: 'get', path: '/health/ready', bearer: false, success: [200], errors: [] },
];

/** Every DTO the controllers take or answer, with the properties it must document. */
const SCHEMAS: Record<string, string[]> = {
  LoginBody: ['email', 'password'],
  LoginResponse: ['token', 'user'],
  UserDto: ['id', 'email', 'role'],
  UserDetailsDto: ['id', 'email', 'role', 'createdAt'],
  CreateUserBody: ['email', 'password', 'role'],
  TokenResponse: ['token'],
  UserPage: ['items', 'nextCursor'],
  CreateProjectBody: ['name', 'description', 'status'],
  UpdateProjectBody: ['name', 'description', 'status'],
  BatchGetBody: ['ids'],
  BulkStatusBody: ['ids', 'status'],
  BulkStatusResponse: ['updated'],
  ProjectDto: ['id', 'name', 'description', 'status', 'createdAt', 'updatedAt'],
  ProjectDetailDto: ['id', 'name', 'description', 'status', 'createdAt', 'updatedAt', 'files', 'activities'],
  ProjectFileSummaryDto: ['id', 'path', 'sizeBytes', 'language', 'updatedAt'],
  ProjectActivitySummaryDto: ['id', 'agent', 'action', 'payload', 'createdAt'],
  ProjectPage: ['items', 'nextCursor'],
  ProjectList: ['items'],
  CreateFileBody: ['path', 'content', 'language'],
  UpdateFileBody: ['path', 'content', 'language'],
  FileSummaryDto: ['id', 'path', 'sizeBytes', 'language', 'createdAt', 'updatedAt'],
  FileDto: ['id', 'path', 'sizeBytes', 'language', 'createdAt', 'updatedAt', 'content'],
  FilePage: ['items', 'nextCursor'],
  CreateActivityBody: ['agent', 'action', 'payload'],
  CreateActivityBatchBody: ['items'],
  ActivityDto: ['id', 'projectId', 'agent', 'action', 'payload', 'createdAt'],
  ActivityList: ['items'],
  ActivityPage: ['items', 'nextCursor'],
  ErrorResponse: ['statusCode', 'error', 'message', 'requestId'],
};

const ref = (schema: string) => `#/components/schemas/${schema}`;
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const toFastify = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
const toOpenApi = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** The routes the controllers declare, with OpenAPI's {param} spelling. */
function declaredOpenApiRoutes(): string[] {
  return declaredRoutes(CONTROLLERS)
    .map((route) => {
      const [method, path] = route.split(' ');
      return key(method, toOpenApi(path));
    })
    .sort();
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: { format?: string } }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}

describe('OpenAPI document (real PostgreSQL)', () => {
  let sut: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any>; securitySchemes: Record<string, any> } };

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

  it('is an OpenAPI 3 document with a bearer security scheme', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('the expected list is exactly what the controllers declare, and Fastify serves each of them', () => {
    const fastify = sut.app.getHttpAdapter().getInstance();

    expect(ROUTES.map((r) => key(r.method, r.path)).sort()).toEqual(declaredOpenApiRoutes());
    for (const r of ROUTES) {
      const route = key(r.method, r.path);
      expect({ route, served: fastify.hasRoute({ method: r.method.toUpperCase() as 'GET', url: toFastify(r.path) }) }).toEqual({ route, served: true });
    }
  });

  it('documents no operation that does not exist', () => {
    const known = new Set(ROUTES.map((r) => key(r.method, r.path)));
    const documented = Object.entries(doc.paths)
      .filter(([path]) => !NOT_COVERED.some((prefix) => prefix.test(path)))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => key(method, path)));

    expect(documented.filter((route) => !known.has(route))).toEqual([]);
  });

  describe.each(ROUTES.map((r) => ({ ...r, route: key(r.method, r.path) })))('$route', (r) => {
    it('is documented', () => {
      expect(operation(r)).toBeDefined();
    });

    it(r.bearer ? 'requires the bearer token' : 'requires no token', () => {
      const security = operation(r)?.security;
      if (r.bearer) expect(security).toEqual([{ bearer: [] }]);
      else expect(security ?? []).toEqual([]);
    });

    it(`documents its path parameters as UUIDs${r.query ? ` and its query parameters ${r.query.join(', ')}` : ''}`, () => {
      const params = operation(r)?.parameters ?? [];
      const pathNames = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

      expect(params.filter((p) => p.in === 'path').map((p) => [p.name, p.required, p.schema?.format])).toEqual(pathNames.map((n) => [n, true, 'uuid']));
      expect(params.filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual([...(r.query ?? [])].sort());
    });

    it(`takes ${r.requestBody ?? 'no body'}`, () => {
      const body = operation(r)?.requestBody;
      if (r.requestBody) expect(body?.content['application/json']?.schema.$ref).toBe(ref(r.requestBody));
      else expect(body).toBeUndefined();
    });

    it(`answers ${r.success[0]}${r.success[1] ? ` with ${r.success[1]}` : ''}`, () => {
      const response = operation(r)?.responses[String(r.success[0])];

      expect(response).toBeDefined();
      if (r.success[1]) expect(response?.content?.['application/json']?.schema.$ref).toBe(ref(r.success[1]));
      if (r.success[0] === 204) expect(response?.content).toBeUndefined();
    });

    if (r.errors.length > 0) {
      it(`documents its errors ${r.errors.join(', ')} (and 503), every one as ErrorResponse`, () => {
        const responses = operation(r)?.responses ?? {};
        const errors = Object.keys(responses).filter((status) => Number(status) >= 400);

        expect(errors.map(Number).filter((s) => [...r.errors, 503].includes(s)).sort()).toEqual([...r.errors, 503].sort());
        for (const status of errors) {
          expect({ status, schema: responses[status].content?.['application/json']?.schema.$ref }).toEqual({ status, schema: ref('ErrorResponse') });
        }
      });
    }
  });

  it.each(Object.entries(SCHEMAS))('has the %s schema with its properties', (name, properties) => {
    const schema = doc.components.schemas[name];

    expect(schema).toBeDefined();
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual([...properties].sort());
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await sut.app.inject({ method: 'GET', url: '/docs' });

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
    expect(res.body).toContain('swagger-ui');
  });
});
