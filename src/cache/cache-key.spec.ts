import { jitteredTtl, responseKey } from './cache-key';

describe('responseKey', () => {
  it('puts the user scope first, so two users never share a key', () => {
    const a = responseKey('user-a', '/api/projects/:id', { id: 'p1' }, {});
    const b = responseKey('user-b', '/api/projects/:id', { id: 'p1' }, {});

    expect(a).not.toBe(b);
    expect(a.startsWith('user-a|')).toBe(true);
  });

  it('normalizes the query: order does not matter, values do', () => {
    const one = responseKey('u', '/api/projects', {}, { status: 'active', limit: '10' });
    const two = responseKey('u', '/api/projects', {}, { limit: '10', status: 'active' });
    const other = responseKey('u', '/api/projects', {}, { limit: '11', status: 'active' });

    expect(one).toBe(two);
    expect(one).not.toBe(other);
  });

  it('gives a UUID in any letter case one key, and leaves other parameters as they are', () => {
    const id = '0b6f0c7e-6c1b-4f5e-9a55-2f1f1c6e2f7d';
    expect(responseKey('u', '/r/:id', { id: id.toUpperCase() }, {})).toBe(responseKey('u', '/r/:id', { id }, {}));
    expect(responseKey('u', '/r/:name', { name: 'ABC' }, {})).not.toBe(responseKey('u', '/r/:name', { name: 'abc' }, {}));
  });

  it('keeps a repeated parameter apart from a comma-separated one', () => {
    const repeated = responseKey('u', '/r', {}, { include: ['files', 'activities'] });
    const joined = responseKey('u', '/r', {}, { include: 'files,activities' });
    expect(repeated).not.toBe(joined);
    expect(repeated).toBe(responseKey('u', '/r', {}, { include: ['files', 'activities'] }));
  });

  it('cannot be confused by separators inside values', () => {
    const a = responseKey('u', '/r', {}, { a: '1&b=2' });
    const b = responseKey('u', '/r', {}, { a: '1', b: '2' });

    expect(a).not.toBe(b);
  });
});

describe('jitteredTtl', () => {
  it('stays within +/-10 %', () => {
    expect(jitteredTtl(1000, () => 0)).toBe(900);
    expect(jitteredTtl(1000, () => 1)).toBe(1100);
    expect(jitteredTtl(1000, () => 0.5)).toBe(1000);
  });

  it('spreads entries made together', () => {
    const ttls = new Set(Array.from({ length: 50 }, () => jitteredTtl(30_000)));

    expect(ttls.size).toBeGreaterThan(10);
  });
});
