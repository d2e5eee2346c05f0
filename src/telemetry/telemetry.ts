import { subscribe } from 'node:diagnostics_channel';
import { context, Span, SpanContext, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger as Pino } from 'pino';
import type { TelemetryConfig } from '../config/app-config';

/** A started OpenTelemetry SDK: flushes what it holds and stops on shutdown. */
export interface Telemetry {
  shutdown(): Promise<void>;
}

/** Routes never traced: probes and scrapes come every few seconds and say nothing about a user's request. */
export function untracedPath(url: string): boolean {
  return url === '/metrics' || url.startsWith('/metrics?') || url.startsWith('/health/') || url === '/health';
}

/** W3C trace context of a span, as the `traceparent` header carries it. */
export function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${span.traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * Starts the OpenTelemetry SDK when OTEL_* configures it, before the modules it instruments are
 * loaded (pg, redis and fastify are patched as they are required): main.ts calls this first and
 * only then loads the server. Unconfigured, nothing of the SDK is even loaded, so an untraced
 * process pays nothing; @opentelemetry/api alone (a no-op until an SDK registers) stays in the code.
 */
export function startTelemetry(config: TelemetryConfig, log: Pino): Telemetry | undefined {
  if (!config.traces && !config.metrics) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when configured, see above */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { AggregationType } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { RedisInstrumentation } = require('@opentelemetry/instrumentation-redis') as typeof import('@opentelemetry/instrumentation-redis');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const instrumentations = config.traces
    ? [
        new FastifyOtelInstrumentation({
          registerOnInitialization: true,
          ignorePaths: (route: { url: string }) => untracedPath(route.url),
          // One span per request, not one per hook and handler: the pool, SQL and Redis spans
          // under it already say where the time went, and every span costs on the hot path.
          instrumentHooks: false,
          instrumentHandler: false,
          requestHook: nameRequestSpan,
        }),
        // Statements outside a request (health pings, the pool's own connects at boot) are noise.
        // The statements' texts carry $n placeholders; values are recorded only with
        // enhancedDatabaseReporting, left off.
        new PgInstrumentation({ requireParentSpan: true }),
        new RedisInstrumentation({
          requireParentSpan: true,
          // The command alone: the keys name users and projects, and values hold their data.
          dbStatementSerializer: (command: string) => command,
        }),
      ]
    : [];
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations,
    // Traces off but metrics on: no span processor at all, rather than the SDK's default exporter.
    ...(config.traces ? {} : { spanProcessors: [] }),
    // Traces on but metrics off: no metric reader, rather than the SDK's default (OTLP when
    // OTEL_METRICS_EXPORTER is unset).
    ...(config.metrics ? {} : { metricReaders: [] }),
    // monitoring/otel-pool-metrics.ts reports every pool under its own name; the pg
    // instrumentation's pool instruments would count them all into one, named by its address.
    views: [{ meterName: '@opentelemetry/instrumentation-pg', instrumentName: 'db.client.connection.*', aggregation: { type: AggregationType.DROP } }],
  });
  sdk.start();
  if (config.traces) subscribe('fastify.initialization', (message) => addTraceHooks((message as { fastify: FastifyInstance }).fastify));
  log.info({ context: 'Telemetry', traces: config.traces, metrics: config.metrics, service: config.serviceName }, 'OpenTelemetry started');
  return {
    shutdown: async () => {
      await sdk.shutdown().catch((err: unknown) => log.warn({ context: 'Telemetry', err }, 'OpenTelemetry shutdown failed'));
    },
  };
}

/** Named by route template (low cardinality, groups alike requests); the path without its query, whose values may be anyone's. */
function nameRequestSpan(span: Span, request: FastifyRequest): void {
  const template = request.routeOptions.url;
  span.updateName(template === undefined ? request.method : `${request.method} ${template}`);
  const query = request.url.indexOf('?');
  span.setAttributes({ 'url.path': query === -1 ? request.url : request.url.slice(0, query), 'app.request_id': request.id });
}

/**
 * Added right after @fastify/otel's request span hook (both run on Fastify's initialization), so
 * every traced answer carries `traceparent` (and `tracestate`): the trace of a response a client
 * reports can be found, refusals and early cache answers included.
 */
function addTraceHooks(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (_request, reply, done) => {
    const span = trace.getSpan(context.active());
    if (span !== undefined) {
      const ids = span.spanContext();
      reply.header('traceparent', traceparentOf(ids));
      const state = ids.traceState?.serialize();
      if (state) reply.header('tracestate', state);
    }
    done();
  });
}
