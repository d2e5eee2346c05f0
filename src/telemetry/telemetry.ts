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
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { RedisInstrumentation } = require('@opentelemetry/instrumentation-redis') as typeof import('@opentelemetry/instrumentation-redis');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const instrumentations = config.traces
    ? [
        new FastifyOtelInstrumentation({
          registerOnInitialization: true,
          ignorePaths: (route: { url: string }) => untracedPath(route.url),
        }),
        // Statements outside a request (health pings, the pool's own connects at boot) are noise.
        new PgInstrumentation({ requireParentSpan: true }),
        new RedisInstrumentation({ requireParentSpan: true }),
      ]
    : [];
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations,
    // Traces off but metrics on: no span processor at all, rather than the SDK's default exporter.
    ...(config.traces ? {} : { spanProcessors: [] }),
  });
  sdk.start();
  log.info({ context: 'Telemetry', traces: config.traces, metrics: config.metrics, service: config.serviceName }, 'OpenTelemetry started');
  return {
    shutdown: async () => {
      await sdk.shutdown().catch((err: unknown) => log.warn({ context: 'Telemetry', err }, 'OpenTelemetry shutdown failed'));
    },
  };
}
