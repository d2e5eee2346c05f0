import { round } from '../shared/stats';
import type { AutocannonClient, AutocannonRequest } from './load';
import type { BenchUser, Row } from './scenarios';
import type { RoundsSummary } from './stats';

/** What several scenarios send and report the same way (scenarios.ts, scale-nginx.ts, scale-workers.ts). */

export const auth = (user: BenchUser) => ({ authorization: `Bearer ${user.token}` });

export function rowOf(scenario: string, label: string, kind: Row['kind'], connections: number, s: RoundsSummary, notes?: string): Row {
  return {
    scenario,
    label,
    kind,
    connections,
    reqPerSec: s.reqPerSec,
    reqPerSecRounds: s.reqPerSecRounds.map((v) => round(v, 0)),
    avg: s.avg,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    max: s.max,
    errors: s.errors,
    non2xx: s.non2xx,
    statusCodes: s.statusCodes,
    cpuUs: s.cpuUsPerResponse,
    notes,
  };
}

/** Spreads connections over users: connection i is users[i % n], with its own token. */
export function perUser(users: readonly BenchUser[], build: (user: BenchUser, index: number) => AutocannonRequest[]): (client: AutocannonClient) => void {
  let next = 0;
  return (client) => {
    const index = next++;
    client.setRequests(build(users[index % users.length], index));
  };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

const MIXED_BODY = JSON.stringify({ agent: 'bench', action: 'mixed.posted', payload: { n: 1 } });

/** The mixed scenario's cycle for one user: 20 requests, positions 4, 9, 14 list; 19 posts; the other 16 read a project. */
export function mixedRequests(user: BenchUser): AutocannonRequest[] {
  return Array.from({ length: 20 }, (_, i): AutocannonRequest => {
    if (i === 19) {
      return {
        method: 'POST',
        headers: { ...auth(user), 'content-type': 'application/json' },
        body: MIXED_BODY,
        setupRequest: (req) => ({ ...req, path: `/api/projects/${pick(user.projects)}/activities` }),
      };
    }
    if (i % 5 === 4) return { method: 'GET', path: '/api/projects?limit=20', headers: auth(user) };
    return { method: 'GET', headers: auth(user), setupRequest: (req) => ({ ...req, path: `/api/projects/${pick(user.projects)}` }) };
  });
}
