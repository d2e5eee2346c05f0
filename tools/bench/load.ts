import { performance } from 'node:perf_hooks';
import { RunStats, summarizeLatencies } from './stats';

/** The parts of autocannon 9's programmatic API the bench uses (it ships no types). */
export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}

export interface AutocannonClient {
  setHeaders(headers: Record<string, string>): void;
  setRequests(requests: AutocannonRequest[]): void;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
  stop(): void;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface LoadOptions {
  /** Base URL: http://127.0.0.1:port (the bench only ever targets loopback). */
  readonly url: string;
  readonly connections: number;
  /** Seconds; ignored when `amount` is given. */
  readonly durationS?: number;
  /** Exactly this many requests, then stop (every response is counted). */
  readonly amount?: number;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Per-connection set-up: headers or a request list of its own. */
  readonly setupClient?: (client: AutocannonClient) => void;
  /** Seconds before a request counts as timed out. */
  readonly timeoutS?: number;
  /** Hard stop after this many ms whatever happens (default: duration + 30 s). */
  readonly hardLimitMs?: number;
}

const active = new Set<AutocannonInstance>();

/** Responses received per server base URL over the whole bench run (to price a CPU profile per request). */
export const responsesByServer = new Map<string, number>();

/** Stops every load run in progress (Ctrl-C). */
export function stopAllLoad(): void {
  for (const instance of active) instance.stop();
}

export interface LoadResult extends RunStats {
  /** True when the hard limit stopped the run before it finished by itself. */
  readonly cutShort: boolean;
}

/**
 * One autocannon run. Latencies come from every response (its 'response' event), so p95 is
 * exact rather than read off autocannon's fixed percentile list, which has none.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) {
    return Promise.reject(new Error(`the bench only targets loopback, not ${target.hostname}`));
  }
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const statusCodes: Record<string, number> = {};
  const started = performance.now();
  let cutShort = false;

  return new Promise<LoadResult>((resolve, reject) => {
    const opts: Record<string, unknown> = {
      url: options.url + (options.path ?? '/'),
      connections: options.connections,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      timeout: options.timeoutS ?? 10,
      setupClient: options.setupClient,
      excludeErrorStats: false,
      // Without this, autocannon prints nothing anyway in the programmatic API.
      renderProgressBar: false,
    };
    if (options.body !== undefined) opts.body = options.body;
    if (options.amount !== undefined) opts.amount = options.amount;
    else opts.duration = options.durationS ?? 5;

    const limitMs = options.hardLimitMs ?? ((options.durationS ?? 5) * 1000 + 30_000);
    let instance: AutocannonInstance;
    const hardStop = setTimeout(() => {
      cutShort = true;
      instance.stop();
    }, limitMs);

    instance = autocannon(opts, (err, result) => {
      clearTimeout(hardStop);
      active.delete(instance);
      if (err) return reject(err);
      const seconds = (performance.now() - started) / 1000;
      const responses = n;
      responsesByServer.set(options.url, (responsesByServer.get(options.url) ?? 0) + responses);
      resolve({
        reqPerSec: responses / seconds,
        latency: summarizeLatencies(latencies.subarray(0, n)),
        responses,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes: Object.fromEntries(Object.entries(statusCodes)),
        seconds,
        cutShort,
      });
    });
    active.add(instance);
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = responseTime;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    });
  });
}
