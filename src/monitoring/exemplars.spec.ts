import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { requestExemplar, traceExemplar } from './exemplars';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const inTrace = (traceFlags: TraceFlags) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags });

describe('traceExemplar', () => {
  it('names a sampled trace and its span', () => {
    expect(traceExemplar(inTrace(TraceFlags.SAMPLED))).toEqual({ trace_id: TRACE, span_id: SPAN });
  });

  it('gives nothing for an unsampled trace (the backend never gets it) or outside any trace', () => {
    expect(traceExemplar(inTrace(TraceFlags.NONE))).toBeUndefined();
    expect(traceExemplar(ROOT_CONTEXT)).toBeUndefined();
  });
});

describe('requestExemplar', () => {
  it('reads the context @fastify/otel keeps on the request, and nothing without it', () => {
    const traced = { opentelemetry: () => ({ context: inTrace(TraceFlags.SAMPLED) }) } as unknown as FastifyRequest;
    expect(requestExemplar(traced)).toEqual({ trace_id: TRACE, span_id: SPAN });
    expect(requestExemplar({} as FastifyRequest)).toBeUndefined();
  });
});
