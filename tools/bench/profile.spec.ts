import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtPath, packageOf, summarizeProfile } from './profile';

describe('bench CPU profile summary', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names packages, our builds (dist, dist-dev or the bench copy), node core and V8 frames', () => {
    expect(packageOf('file:///w/node_modules/@nestjs/core/router/x.js', 'f')).toBe('@nestjs/core');
    expect(packageOf('file:///w/node_modules/a/node_modules/fastify/lib/reply.js', 'f')).toBe('fastify');
    expect(packageOf('file:///w/dist/src/auth/token.service.js', 'f')).toBe('app: src/auth');
    expect(packageOf('file:///w/.data/bench-build/123/src/cache/x.js', 'f')).toBe('app: src/cache');
    expect(builtPath('file:///w/.data/bench-build/123/src/cache/x.js')).toBe('src/cache/x.js');
    expect(packageOf('file:///w/dist-dev/tools/bench/reference/server.js', 'f')).toBe('app: tools/bench');
    expect(packageOf('node:internal/http', 'f')).toBe('node (core)');
    expect(packageOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(packageOf('', 'writev')).toBe('(native)');
  });

  it('sums self time, leaves idle out of the shares, attributes native time to its caller', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('send', 'file:///w/node_modules/fastify/lib/reply.js'), children: [4] },
        { id: 4, callFrame: frame('writev') },
        { id: 5, callFrame: frame('guard', 'file:///w/dist/src/auth/access.guard.js') },
      ],
      startTime: 0,
      endTime: 100_000,
      // 10 ms samples: idle 4, writev under fastify 3, fastify itself 1, our guard 2.
      samples: [2, 2, 2, 2, 4, 4, 4, 3, 5, 5],
      timeDeltas: Array(10).fill(10_000),
    };
    const file = join(dir, 'p.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));

    const s = summarizeProfile(file);
    expect(s.totalMs).toBe(100);
    expect(s.busyMs).toBe(60);
    expect(s.idlePct).toBeCloseTo(40, 10);
    expect(s.topFunctions[0]).toMatchObject({ functionName: 'writev', selfMs: 30, selfPct: 50 });
    expect(s.attributedByPackage).toEqual([
      { name: 'fastify', pct: expect.closeTo(66.67, 1) },
      { name: 'app: src/auth', pct: expect.closeTo(33.33, 1) },
    ]);
    expect(s.inclusiveAppFunctions).toEqual([{ functionName: 'guard', location: 'dist/src/auth/access.guard.js:1', pct: expect.closeTo(33.33, 1) }]);

    // A window: the first 40 ms (start-up) left out.
    expect(summarizeProfile(file, { skipStartMs: 40 }).busyMs).toBe(60);
    expect(summarizeProfile(file, { skipStartMs: 70 }).busyMs).toBe(40);
  });
});
