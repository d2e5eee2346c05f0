import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };
/** Every schema of the API by name: `Schemas['ProjectDto']`. */
export type Schemas = components['schemas'];
/** The body of every error answer. */
export type ApiError = Schemas['ErrorResponse'];
export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** Where the API is, e.g. http://localhost:3000 (the document's server) or your proxy's origin. */
  readonly baseUrl: string;
  /** The bearer token to send, read on every request (undefined: none, e.g. before login). */
  readonly token?: () => string | undefined;
  /** A fetch of your own (tests, SSR); the global one by default. */
  readonly fetch?: typeof fetch;
}

/**
 * A client whose every path, parameter, body and answer is typed from the API's OpenAPI document:
 * `await api.GET('/api/projects/{id}', { params: { path: { id } } })` gives `{ data }` on success
 * and `{ error }` (an ApiError) otherwise.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  client.use({
    onRequest({ request }) {
      const token = options.token?.();
      if (token !== undefined) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}
