import { replicaPoolName, ReplicaRouter } from './replica-router';

describe('ReplicaRouter', () => {
  let now: number;
  const clock = () => now;
  const half = () => 0.5;

  beforeEach(() => {
    now = 0;
  });

  it('has nothing to offer without replicas', () => {
    expect(new ReplicaRouter(0, clock).choose(() => 0)).toBeUndefined();
  });

  it('takes turns between equally busy replicas', () => {
    const sut = new ReplicaRouter(3, clock);

    expect([0, 1, 2, 3].map(() => sut.choose(() => 0))).toEqual([0, 1, 2, 0]);
  });

  it('prefers the least busy replica', () => {
    const sut = new ReplicaRouter(3, clock);
    const busy = [4, 1, 2];

    expect(sut.choose((i) => busy[i])).toBe(1);
    expect(sut.choose((i) => busy[i])).toBe(1);
  });

  it('leaves a failed replica out for a backoff that grows while it keeps failing, then tries it again', () => {
    const sut = new ReplicaRouter(2, clock, half);

    const first = sut.failed(0);
    expect(first).toBe(750);
    expect(sut.isDown(0)).toBe(true);
    expect([sut.choose(() => 0), sut.choose(() => 0)]).toEqual([1, 1]);

    now += first;
    expect(sut.isDown(0)).toBe(false);
    expect(sut.failed(0)).toBe(1_500);

    now += 1_500;
    sut.succeeded(0);
    expect(sut.failed(0)).toBe(750);
  });

  it('answers undefined while every replica is down, so the read goes to the primary', () => {
    const sut = new ReplicaRouter(1, clock, half);
    sut.failed(0);

    expect(sut.choose(() => 0)).toBeUndefined();
  });

  it('names the pools replica-0, replica-1, ... in the order of DATABASE_REPLICA_URLS', () => {
    expect([0, 1].map(replicaPoolName)).toEqual(['replica-0', 'replica-1']);
  });
});
