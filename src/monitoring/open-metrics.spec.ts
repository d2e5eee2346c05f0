import { Counter, Histogram, Registry } from 'prom-client';
import { formatFor, openMetricsText } from './open-metrics';

describe('formatFor (the /metrics format from the Accept header)', () => {
  it('answers OpenMetrics when the scraper accepts it, as Prometheus does', () => {
    expect(formatFor('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(formatFor('text/plain;q=0.9, Application/OpenMetrics-Text; version=1.0.0')).toBe('openmetrics');
  });

  it('answers the Prometheus format otherwise, including when OpenMetrics is refused with q=0', () => {
    expect(formatFor(undefined)).toBe('prometheus');
    expect(formatFor('*/*')).toBe('prometheus');
    expect(formatFor('text/plain;version=0.0.4')).toBe('prometheus');
    expect(formatFor('application/openmetrics-text;q=0, text/plain')).toBe('prometheus');
  });
});

describe('openMetricsText', () => {
  function aRegistry() {
    const sut = new Registry();
    const counter = new Counter({ name: 'jobs_total', help: 'Jobs', labelNames: ['kind'], registers: [sut] });
    const histogram = new Histogram({ name: 'job_seconds', help: 'Job time', buckets: [0.1, 1], enableExemplars: true, registers: [] });
    sut.registerMetric(histogram);
    counter.inc({ kind: 'a' });
    histogram.observe({ value: 0.05, exemplarLabels: { trace_id: 'abc' } });
    return sut;
  }

  it('renders exemplars and counter families the OpenMetrics way, ending in # EOF', async () => {
    const text = await openMetricsText(aRegistry());
    expect(text).toContain('# TYPE jobs counter\njobs_total{kind="a"} 1');
    expect(text).toMatch(/^job_seconds_bucket\{le="0\.1"\} 1 # \{trace_id="abc"\} 0\.05 \d+(\.\d+)?$/m);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
  });

  it('leaves the registry rendering the same Prometheus text afterwards', async () => {
    const registry = aRegistry();
    const before = await registry.metrics();
    await openMetricsText(registry);
    expect(await registry.metrics()).toBe(before);
    expect(before).toContain('# TYPE jobs_total counter\njobs_total{kind="a"} 1');
    expect(before).not.toContain('trace_id');
  });
});
