import { performance } from 'node:perf_hooks';
import { TokenRepository } from '../../../src/auth/token.repository';
import { MAX_LOCAL_KEYS, RateLimitStorage } from '../../../src/http/rate-limit/rate-limit.storage';
import { percentile, round } from '../../../tools/shared/stats';
import { recordFigure } from '../../support/figures';
import { bootApp, TestApp } from '../../support/test-app';

/**
 * Clients that multiply their identity: spoofed X-Forwarded-For behind TRUST_PROXY=true, or
 * rotating IPv6 addresses. Neither may buy more requests or make each new key cost a sweep.
 */
describe('hostile clients: rate-limit keys (real PostgreSQL)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await bootApp({ TRUST_PROXY: 'true', RATE_LIMIT_ANON_PER_MINUTE: '3' });
  });

  afterAll(async () => {
    await sut.close();
  });

  const anonymous = (from: string) => sut.app.inject({ method: 'GET', url: '/api/projects', headers: { 'x-forwarded-for': from } });

  it('counts every address of one IPv6 /64 as one client', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) statuses.push((await anonymous(`2001:db8:1:2:${i.toString(16)}::${i}`)).statusCode);
    const neighbour = await anonymous('2001:db8:1:3::1');

    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(neighbour.statusCode).toBe(401);
  });

  it('looks up at most the anonymous limit of made-up tokens per client: a token flood costs no queries past it', async () => {
    const lookups = jest.spyOn(sut.app.get(TokenRepository), 'resolveAndTouch');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await sut.app.inject({ method: 'GET', url: '/api/projects', headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer pbt_made_up_${i}` } });
      statuses.push(res.statusCode);
    }
    const health = await sut.app.inject({ method: 'GET', url: '/health/ready', headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer pbt_more' } });

    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect(lookups).toHaveBeenCalledTimes(3);
    // Readiness still answers that client, without looking its token up.
    expect(health.statusCode).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(3);
    lookups.mockRestore();
  });

  it('admits new clients into a full counter map without a sweep per key', async () => {
    const storage = sut.app.get(RateLimitStorage);
    // 200,000 live clients, as a spoofed X-Forwarded-For scan leaves them.
    for (let i = 0; i < MAX_LOCAL_KEYS; i++) storage.incrementLocal(`anon:ip:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 60_000, 3, Date.now());

    const statuses = new Set<number>();
    const times: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const started = performance.now();
      statuses.add((await anonymous(`172.16.${i >> 8}.${i & 255}`)).statusCode);
      times.push(performance.now() - started);
    }
    const p95 = percentile(times, 95);
    recordFigure('2,000 new clients into a full map of 200,000 rate-limit keys: p95 request time', round(p95), 'ms');

    expect([...statuses]).toEqual([401]);
    expect(storage.size).toBe(MAX_LOCAL_KEYS);
    // A sweep of the full map per new key blocked the loop ~100 ms on every one of them.
    expect(p95).toBeLessThan(20);
  }, 60_000);
});
