import { Counter, Gauge, Registry } from 'prom-client';
import { GroupMetrics, type MetricsJson } from './group-metrics';

/** One worker's registry: a request counter and a pool gauge. */
function aWorker(requests: number, connections: number): Promise<MetricsJson> {
  const registry = new Registry();
  new Counter({ name: 'requests_total', help: 'requests', labelNames: ['route'], registers: [registry] }).inc({ route: '/x' }, requests);
  new Gauge({ name: 'db_pool_connections', help: 'open', labelNames: ['pool'], registers: [registry] }).set({ pool: 'primary' }, connections);
  return registry.getMetricsAsJSON();
}

async function valueOf(sut: GroupMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await sut.aggregate().getSingleMetric(name)?.get();
  return metric?.values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value;
}

describe('GroupMetrics', () => {
  it('sums the workers counters and shows pool gauges per worker and summed', async () => {
    const sut = new GroupMetrics();
    sut.update(1, await aWorker(5, 2));
    sut.update(2, await aWorker(7, 3));

    expect(await valueOf(sut, 'requests_total', { route: '/x' })).toBe(12);
    expect(await valueOf(sut, 'db_pool_connections', { pool: 'primary' })).toBe(5);
    expect(await valueOf(sut, 'db_pool_connections', { pool: 'primary', worker: '1' })).toBe(2);
    expect(await valueOf(sut, 'db_pool_connections', { pool: 'primary', worker: '2' })).toBe(3);
  });

  it('keeps an exited worker counters so that the total never goes back, and drops its gauges', async () => {
    const sut = new GroupMetrics();
    sut.update(1, await aWorker(5, 2));
    sut.update(2, await aWorker(7, 3));

    sut.retire(2);
    sut.update(2, await aWorker(1, 1)); // the replacement, counting from zero
    expect(await valueOf(sut, 'requests_total', { route: '/x' })).toBe(13);
    expect(await valueOf(sut, 'db_pool_connections', { pool: 'primary' })).toBe(3);

    sut.retire(2);
    sut.retire(1);
    expect(await valueOf(sut, 'requests_total', { route: '/x' })).toBe(13);
    expect(await valueOf(sut, 'db_pool_connections', { pool: 'primary' })).toBeUndefined();
  });
});
