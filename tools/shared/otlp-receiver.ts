import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as OTLP/JSON carries it, with its resource's and scope's names alongside. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** OTLP SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Record<string, unknown>;
  readonly links: { readonly traceId: string; readonly spanId: string; readonly attributes: Record<string, unknown> }[];
  readonly status: { readonly code?: number; readonly message?: string };
  readonly scope: string;
  readonly resource: Record<string, unknown>;
}

/** One data point of a metric, flattened out of OTLP/JSON's resource > scope > metric nesting. */
export interface ReceivedMetricPoint {
  readonly name: string;
  readonly unit?: string;
  readonly attributes: Record<string, unknown>;
  /** asInt / asDouble for sums and gauges; count and sum for histograms. */
  readonly value?: number;
  readonly count?: number;
  readonly sum?: number;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

function valueOf(v: AnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/**
 * An OTLP/HTTP receiver: the endpoint an OpenTelemetry SDK exports to (OTEL_EXPORTER_OTLP_ENDPOINT),
 * answering the way a collector does (200 with an empty partial-success body). JSON payloads
 * (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) are decoded and kept; protobuf payloads are counted only.
 * Used by the tests to see what the app exports, by the bench as a sink, and by check:monitoring.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metricPoints: ReceivedMetricPoint[] = [];
  /** Export requests by path (/v1/traces, /v1/metrics, /v1/logs), and bytes received in all. */
  readonly requests = new Map<string, number>();
  bytes = 0;
  private server: Server | undefined;

  /** Listens on 127.0.0.1 at `port` (0: a free one); resolves to the endpoint URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      void this.receive(req).then(
        () => {
          res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
          res.end(req.headers['content-type']?.includes('json') ? '{}' : '');
        },
        () => {
          res.writeHead(400);
          res.end();
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  clear(): void {
    this.spans.length = 0;
    this.metricPoints.length = 0;
    this.requests.clear();
    this.bytes = 0;
  }

  private async receive(req: IncomingMessage): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0];
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    this.bytes += body.length;
    if (!req.headers['content-type']?.includes('json')) return;
    const payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (path === '/v1/traces') this.takeSpans(payload);
    if (path === '/v1/metrics') this.takeMetrics(payload);
  }

  private takeSpans(payload: Record<string, unknown>): void {
    type Json = { resource?: { attributes?: KeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: Record<string, unknown>[] }[] };
    for (const rs of (payload.resourceSpans ?? []) as Json[]) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const links = (s.links ?? []) as { traceId: string; spanId: string; attributes?: KeyValue[] }[];
          this.spans.push({
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            parentSpanId: s.parentSpanId ? String(s.parentSpanId) : undefined,
            name: String(s.name),
            kind: Number(s.kind ?? 0),
            startTimeUnixNano: String(s.startTimeUnixNano),
            endTimeUnixNano: String(s.endTimeUnixNano),
            attributes: attributesOf(s.attributes as KeyValue[] | undefined),
            links: links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributesOf(l.attributes) })),
            status: (s.status ?? {}) as ReceivedSpan['status'],
            scope: ss.scope?.name ?? '',
            resource,
          });
        }
      }
    }
  }

  private takeMetrics(payload: Record<string, unknown>): void {
    type Point = { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number; count?: string | number; sum?: number };
    type Metric = { name: string; unit?: string; sum?: { dataPoints?: Point[] }; gauge?: { dataPoints?: Point[] }; histogram?: { dataPoints?: Point[] } };
    type Json = { scopeMetrics?: { metrics?: Metric[] }[] };
    for (const rm of (payload.resourceMetrics ?? []) as Json[]) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
          for (const p of points) {
            const value = p.asInt !== undefined ? Number(p.asInt) : p.asDouble;
            this.metricPoints.push({
              name: m.name,
              unit: m.unit,
              attributes: attributesOf(p.attributes),
              value,
              count: p.count === undefined ? undefined : Number(p.count),
              sum: p.sum,
            });
          }
        }
      }
    }
  }
}
