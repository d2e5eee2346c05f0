/** Facts about processes and ports, read from the OS (/proc on Linux). */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The soft and hard limits on open files of this process (from /proc; undefined off Linux). */
export function openFileLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    if (!line) return undefined;
    const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
    const n = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
    return { soft: n(soft), hard: n(hard) };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB, from /proc/<pid>/status VmRSS; NaN when unreadable. */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in seconds, from a /proc/<pid>/stat line: fields 14
 * and 15 in clock ticks (USER_HZ, 100 on Linux). The name field may hold spaces and parentheses, so
 * fields are counted after its closing parenthesis.
 */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used by a process so far; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** Samples VmRSS of `pid` every `everyMs` until stopped; returns the peak in MB. */
export function sampleRss(pid: number, everyMs = 200): { stop: () => number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const now = rssMb(pid);
      return Math.max(peak, Number.isNaN(now) ? peak : now);
    },
  };
}
