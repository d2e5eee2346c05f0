import { createApiClient, type ApiError, type Schemas } from '../src/index';

export interface SampleOutcome {
  readonly user: Schemas['UserDto'];
  readonly project: Schemas['ProjectDto'];
  readonly file: Schemas['FileDto'];
  readonly activity: Schemas['ActivityDto'];
  /** Every project of the user, read page by page. */
  readonly projects: Schemas['ProjectDto'][];
  /** Every activity of the project, oldest first, read page by page. */
  readonly activities: Schemas['ActivityDto'][];
  readonly metrics: Schemas['PerformanceMetricsDto'];
}

class ApiFailure extends Error {
  constructor(step: string, error: ApiError) {
    super(`${step}: ${error.statusCode} ${error.message} (request ${error.requestId})`);
  }
}

/** Every item of a keyset-paginated list: each page's nextCursor is passed back as the next cursor. */
async function allPages<T>(read: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

/**
 * What a frontend does with the typed client, written as one would in an app: no casts, and every
 * answer checked for `error` before its `data` is used. Compiled under `strict` by the tests, and
 * run against a real server (test/e2e/typed-client.e2e-spec.ts).
 */
export async function runSample(baseUrl: string, email: string, password: string): Promise<SampleOutcome> {
  let token: string | undefined;
  const api = createApiClient({ baseUrl, token: () => token });

  const login = await api.POST('/api/auth/login', { body: { email, password } });
  if (login.error) throw new ApiFailure('login', login.error);
  token = login.data.token;

  const created = await api.POST('/api/projects', { body: { name: 'Checkout redesign', description: 'The new checkout, step by step' } });
  if (created.error) throw new ApiFailure('create project', created.error);
  const project = created.data;
  const inProject = { path: { id: project.id } };

  const added = await api.POST('/api/projects/{id}/files', { params: inProject, body: { path: 'src/checkout.ts', content: 'export const steps = 3;\n', language: 'typescript' } });
  if (added.error) throw new ApiFailure('add file', added.error);

  const recorded = await api.POST('/api/projects/{id}/activities', {
    params: inProject,
    body: { agent: 'planner', action: 'file.edited', payload: { file: 'src/checkout.ts', tokens: 1200, tags: ['ui'] } },
  });
  if (recorded.error) throw new ApiFailure('record activity', recorded.error);

  const projects = await allPages(async (cursor) => {
    const page = await api.GET('/api/projects', { params: { query: { limit: 2, cursor } } });
    if (page.error) throw new ApiFailure('list projects', page.error);
    return page.data;
  });

  const activities = await allPages(async (cursor) => {
    const page = await api.GET('/api/projects/{id}/activities', { params: { ...inProject, query: { limit: 1, order: 'asc', cursor } } });
    if (page.error) throw new ApiFailure('list activities', page.error);
    return page.data;
  });

  const me = await api.GET('/api/auth/me');
  if (me.error) throw new ApiFailure('who am I', me.error);

  const metrics = await api.GET('/api/performance/metrics');
  if (metrics.error) throw new ApiFailure('performance metrics (admin)', metrics.error);

  return { user: me.data, project, file: added.data, activity: recorded.data, projects, activities, metrics: metrics.data };
}
