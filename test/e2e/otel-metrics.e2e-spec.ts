import { OtlpReceiver, type ReceivedMetricPoint } from '../../tools/shared/otlp-receiver';
import { until } from '../support/eventually';
import { freePort, ServerProcess } from '../support/server-process';
import { createTestDatabase, dropTestDatabase } from '../support/test-database';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const ADMIN = { email: 'admin@example.com', password: 'admin-password' };

/** `name`'s points for one pool (and state), latest last. */
function pointsOf(points: ReceivedMetricPoint[], name: string, attributes: Record<string, string>): ReceivedMetricPoint[] {
  return points.filter((p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
}

/** A real server exporting traces and metrics over OTLP/HTTP JSON, and its /metrics. */
describe('OpenTelemetry metrics and exemplars (real process)', () => {
  const receiver = new OtlpReceiver();
  let server: ServerProcess;
  let databaseUrl: string;
  let base: string;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    databaseUrl = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new ServerProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DB_POOL_SIZE: '3',
      DB_MAX_OVERFLOW: '2',
      ADMIN_PASSWORD: ADMIN.password,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await server.waitFor(/listening on/);
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    expect(login.status).toBe(201);
    const { token } = (await login.json()) as { token: string };
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/api/users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    await dropTestDatabase(databaseUrl);
  });

  it('reports the pools under the semantic conventions, named as the app names them', async () => {
    const primary = { 'db.client.connection.pool.name': 'primary' };
    const seen = (name: string, attributes: Record<string, string> = {}) => pointsOf(receiver.metricPoints, name, { ...primary, ...attributes });
    await until(() => seen('db.client.connection.use_time').length > 0 && seen('db.client.connection.count', { 'db.client.connection.state': 'idle' }).length > 0, 10_000);

    expect(seen('db.client.connection.max').at(-1)?.value).toBe(5);
    // Which connections are in use, and who waits, depends on what runs at the export; every export
    // reports both states, and together they are the connections the requests opened.
    const idle = seen('db.client.connection.count', { 'db.client.connection.state': 'idle' }).at(-1)?.value ?? Number.NaN;
    const used = seen('db.client.connection.count', { 'db.client.connection.state': 'used' }).at(-1)?.value ?? Number.NaN;
    expect(idle + used).toBeGreaterThan(0);
    expect(seen('db.client.connection.pending_requests').at(-1)?.value).toEqual(expect.any(Number));
    const wait = seen('db.client.connection.wait_time').at(-1);
    expect(wait?.unit).toBe('s');
    expect(wait?.count).toBeGreaterThan(0);
    expect(seen('db.client.connection.use_time').at(-1)?.count).toBeGreaterThan(0);
    // The pg instrumentation's own pool instruments (named by the pool's address) are dropped.
    const poolNames = new Set(receiver.metricPoints.filter((p) => p.name.startsWith('db.client.connection.')).map((p) => p.attributes['db.client.connection.pool.name']));
    expect([...poolNames]).toEqual(['primary']);
  });

  it('answers OpenMetrics with trace exemplars when asked, and the Prometheus format otherwise', async () => {
    const open = await fetch(`${base}/metrics`, { headers: { accept: OPENMETRICS } });
    expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    const text = await open.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    const exemplar = /^(\w+)_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})",span_id="[0-9a-f]{16}"\} [\d.e+-]+ [\d.]+$/gm;
    const found = [...text.matchAll(exemplar)].map(([, name, traceId]) => ({ name, traceId }));
    for (const name of ['http_request_duration_seconds', 'db_query_duration_seconds']) {
      const ofName = found.filter((f) => f.name === name);
      expect(ofName.length).toBeGreaterThan(0);
      await until(() => ofName.some((f) => receiver.spans.some((s) => s.traceId === f.traceId)), 5_000);
    }
    // OpenMetrics names counter families without _total; their samples keep it.
    expect(text).toContain('# TYPE db_pool_connections_timeout counter');
    expect(text).toMatch(/^db_pool_connections_timeout_total\{pool="primary"\} 0$/m);

    const plain = await fetch(`${base}/metrics`);
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const prometheus = await plain.text();
    expect(prometheus).toContain('# TYPE db_pool_connections_timeout_total counter');
    expect(prometheus).toMatch(/^db_pool_connections_active\{pool="primary"\} \d+$/m);
    expect(prometheus).toMatch(/^http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/users",status_code="200"\} \d+$/m);
    expect(prometheus).not.toContain('trace_id');
  });
});
