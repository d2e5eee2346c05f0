import { context as otelContext, trace, TraceFlags, type Context } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

/** The labels an exemplar carries: Grafana links `trace_id` to the trace. */
export type TraceExemplar = { readonly trace_id: string; readonly span_id: string };

/** @fastify/otel's request decoration, present only while tracing is on. */
type TracedRequest = FastifyRequest & { opentelemetry?: () => { context: Context | null } };

/**
 * The trace of `ctx` (the active context by default), when that trace is sampled: an exemplar
 * pointing at a trace the backend never received would be a dead link.
 */
export function traceExemplar(ctx: Context = otelContext.active()): TraceExemplar | undefined {
  const span = trace.getSpanContext(ctx);
  if (span === undefined || (span.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { trace_id: span.traceId, span_id: span.spanId };
}

/**
 * The request's trace. By onResponse @fastify/otel has ended the request span and the hook may run
 * outside its context, so the context it keeps on the request comes first.
 */
export function requestExemplar(request: FastifyRequest): TraceExemplar | undefined {
  const kept = (request as TracedRequest).opentelemetry?.().context;
  return traceExemplar(kept ?? undefined);
}
