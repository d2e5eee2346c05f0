import { BadRequestException } from '@nestjs/common';
import fc from 'fast-check';
import { CursorCodec, toPage } from './cursor';

const sut = new CursorCodec('property-test-secret-0123456789');

describe('CursorCodec (property-based)', () => {
  it('decodes every cursor it encoded, in the same scope', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (key, id, scope) => {
        expect(sut.decode(sut.encode({ key, id }, scope), scope)).toEqual({ key, id });
      }),
    );
  });

  it('refuses a cursor from another scope', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (key, id, a, b) => {
        fc.pre(a !== b);
        expect(() => sut.decode(sut.encode({ key, id }, a), b)).toThrow(BadRequestException);
      }),
    );
  });

  it('refuses any single-character change to a cursor', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uuid(), fc.nat(), fc.constantFrom(...'ABCxyz019-_.'), (key, id, at, replacement) => {
        const cursor = sut.encode({ key, id }, 's');
        const i = at % cursor.length;
        fc.pre(cursor[i] !== replacement);
        const tampered = cursor.slice(0, i) + replacement + cursor.slice(i + 1);
        expect(() => sut.decode(tampered, 's')).toThrow(BadRequestException);
      }),
    );
  });

  it('answers arbitrary input with a 400, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (garbage) => {
        try {
          sut.decode(garbage, 's');
        } catch (err) {
          expect(err).toBeInstanceOf(BadRequestException);
          return;
        }
        throw new Error(`accepted ${JSON.stringify(garbage)}`);
      }),
    );
  });

  it('refuses a cursor signed with another secret', () => {
    const other = new CursorCodec('another-secret-9876543210');
    expect(() => sut.decode(other.encode({ key: 'k', id: 'i' }, 's'), 's')).toThrow(BadRequestException);
  });
});

describe('toPage (property-based)', () => {
  it('serves at most `limit` items and a cursor exactly when more rows exist', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 120 }), fc.integer({ min: 1, max: 100 }), (rows, limit) => {
        const page = toPage(rows.slice(0, limit + 1), limit, (r) => r, (r) => ({ key: String(r), id: String(r) }), (p) => p.key);
        expect(page.items.length).toBe(Math.min(rows.length, limit));
        expect(page.nextCursor !== null).toBe(rows.length > limit);
      }),
    );
  });
});
