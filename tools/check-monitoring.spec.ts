import { exemplarTargetProblems, withBool } from './check-monitoring';

describe('withBool (alert expressions evaluated without their threshold filtering series out)', () => {
  it('adds bool to every top-level comparison', () => {
    expect(withBool('rate(x[5m]) > 0.01')).toBe('rate(x[5m]) > bool 0.01');
    expect(withBool('a >= 1 and b != 2')).toBe('a >= bool 1 and b != bool 2');
  });

  it('leaves comparisons inside parentheses, label matchers and strings alone', () => {
    expect(withBool('sum(x > 1) < 5')).toBe('sum(x > 1) < bool 5');
    expect(withBool('x{path!="/a>b"} == 0')).toBe('x{path!="/a>b"} == bool 0');
  });

  it('keeps an existing bool, and answers undefined without a top-level comparison', () => {
    expect(withBool('x > bool 1')).toBeUndefined();
    expect(withBool('sum(rate(x[1m]))')).toBeUndefined();
  });
});

describe('exemplarTargetProblems (dashboard targets that show exemplars)', () => {
  it('accepts exemplars on the histograms that carry them', () => {
    const dashboard = { panels: [{ title: 'Latency', targets: [{ expr: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))', exemplar: true }] }] };
    expect(exemplarTargetProblems(dashboard)).toEqual([]);
  });

  it('names a target asking for exemplars of a series without them, and a dashboard with none', () => {
    const dashboard = { panels: [{ title: 'Wait', targets: [{ expr: 'rate(db_pool_connections_acquire_seconds_bucket[5m])', exemplar: true }] }] };
    expect(exemplarTargetProblems(dashboard)).toEqual(['panel "Wait" asks for exemplars of rate(db_pool_connections_acquire_seconds_bucket[5m]), which has none']);
    expect(exemplarTargetProblems({ panels: [{ title: 'Latency', targets: [{ expr: 'x' }] }] })).toEqual(['no panel target has exemplar: true']);
  });
});
