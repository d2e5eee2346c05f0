import { cpuSeconds, cpuSecondsOfStat } from './processes';

describe('server CPU time from /proc/<pid>/stat', () => {
  it('reads utime and stime (fields 14 and 15, in 1/100 s) after a process name holding spaces and parentheses', () => {
    const stat = '4242 (node (a b)) S 1 4242 4242 0 -1 4194304 1234 0 0 0 250 75 0 0 20 0 11 0 100 1000000 5000';
    expect(cpuSecondsOfStat(stat)).toBeCloseTo(3.25);
  });

  it('grows as this process works, and is NaN for a process that does not exist', () => {
    const before = cpuSeconds(process.pid);
    const until = Date.now() + 60;
    while (Date.now() < until) Math.sqrt(Math.random());
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
    expect(cpuSeconds(2 ** 22 + 1)).toBeNaN();
  });
});
