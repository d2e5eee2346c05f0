import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Operation } from 'openapi-backend';

/** The committed document, which the drift test keeps equal to what the code generates. */
export const OPENAPI_DOCUMENT = resolve(__dirname, '../../docs/openapi.json');

/** One exchange as a test client saw it. */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: string;
}

interface ResponseDoc {
  content?: Record<string, unknown>;
  headers?: Record<string, { required?: boolean }>;
}

let backend: Promise<OpenAPIBackend> | undefined;

function api(): Promise<OpenAPIBackend> {
  backend ??= new OpenAPIBackend({
    definition: JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8')),
    strict: true,
    // Validators compiled per operation when first needed: all at once costs seconds per test file.
    // (The document itself is checked by the linters, npm run lint:openapi.)
    quick: true,
    // Formats (uuid, date-time) are part of the contract too.
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  }).init();
  return backend;
}

/**
 * What is wrong with an answer, measured against the committed OpenAPI document by openapi-backend
 * (Ajv underneath, with OpenAPI 3.0's `nullable`): its status must be declared for the operation,
 * its body valid against that status's schema (or absent when it declares none) and its declared
 * headers present and well-typed. An exchange with no documented operation (/metrics, /docs, an
 * unknown URL or method, a test's own controller) has no contract here: empty.
 */
export async function contractProblems(exchange: Exchange): Promise<string[]> {
  const openapi = await api();
  const url = new URL(exchange.url, 'http://localhost');
  const operation = openapi.matchOperation({
    method: exchange.method.toLowerCase(),
    path: url.pathname,
    headers: {},
    query: Object.fromEntries(url.searchParams),
  }) as Operation | undefined;
  if (operation === undefined) return [];
  const where = `${exchange.method} ${url.pathname} (${operation.operationId}) answered ${exchange.statusCode}`;
  const declared = operation.responses?.[String(exchange.statusCode)] as ResponseDoc | undefined;
  if (declared === undefined) return [`${where}: the document declares no such status; body ${exchange.body.slice(0, 300)}`];

  const problems: string[] = [];
  const contentType = String(exchange.headers['content-type'] ?? '');
  if (declared.content === undefined) {
    if (exchange.body !== '') problems.push(`${where}: a body where the document declares none`);
    if (contentType !== '') problems.push(`${where}: content-type ${contentType} where the document declares no body`);
  } else if (!contentType.startsWith('application/json')) {
    problems.push(`${where}: content-type ${contentType || '(none)'}, the document declares ${Object.keys(declared.content).join(', ')}`);
  } else {
    const body: unknown = JSON.parse(exchange.body);
    const result = openapi.validator.validateResponse(body, operation, exchange.statusCode);
    for (const error of result.errors ?? []) problems.push(`${where}: body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
  }

  const headers = Object.fromEntries(Object.entries(exchange.headers).map(([name, value]) => [name.toLowerCase(), value]));
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    if (header.required === true && headers[name.toLowerCase()] === undefined) problems.push(`${where}: no ${name} header`);
  }
  const typed = openapi.validator.validateResponseHeaders(headers, operation, { statusCode: exchange.statusCode });
  for (const error of typed.errors ?? []) problems.push(`${where}: header ${error.instancePath} ${error.message}`);
  return problems;
}

async function assertContract(exchange: Exchange): Promise<void> {
  const problems = await contractProblems(exchange);
  if (problems.length > 0) throw new Error(`The answer breaks docs/openapi.json:\n${problems.join('\n')}`);
}


/**
 * Makes `app.inject(...)` check every answer against the document: an answer that breaks it
 * rejects, failing the test that made the request. (Nest's app is a proxy that refuses new
 * properties, so the check goes on the Fastify instance it delegates to.)
 */
export function checkInjectedAnswers(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance() as { inject: (opts?: unknown) => unknown };
  const inject = fastify.inject.bind(fastify) as (opts?: unknown) => unknown;
  fastify.inject = (opts?: unknown) => {
    if (opts === undefined || typeof opts === 'function') return inject(opts);
    const request = typeof opts === 'string' ? { method: 'GET', url: opts } : (opts as { method?: string; url?: unknown; path?: unknown });
    return (inject(opts) as Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>).then(async (res) => {
      await assertContract({ method: request.method ?? 'GET', url: String(request.url ?? request.path ?? '/'), statusCode: res.statusCode, headers: res.headers, body: res.body });
      return res;
    });
  };
}

const deferred: Exchange[] = [];

/**
 * For a client that times its requests (raw-client.ts's timedFetch): the answer is checked after
 * the test (contract-setup.ts's afterEach), so compiling a validator never lands in a measured
 * window or delays a concurrent request's timing. A broken answer still fails that test.
 */
export function checkAfterTest(exchange: Exchange): void {
  deferred.push(exchange);
}

export async function checkDeferredAnswers(): Promise<void> {
  for (const exchange of deferred.splice(0)) await assertContract(exchange);
}

/** The fetch before checkFetchedAnswers: for a test that must see an answer the document does not describe (a proxy's own). */
export const uncheckedFetch: typeof fetch = globalThis.fetch;

/**
 * `globalThis.fetch`, checking every answer of the API against the document the same way: for the
 * tests that talk to a server process over real HTTP, and the generated client (openapi-fetch).
 */
export function checkFetchedAnswers(): void {
  const realFetch = uncheckedFetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await realFetch(input, init);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const url = input instanceof Request ? input.url : String(input);
    const body = await res.clone().text();
    await assertContract({ method, url, statusCode: res.status, headers: Object.fromEntries(res.headers), body });
    return res;
  };
}
