import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';

/** A position in a keyset-ordered list: the sort key of the last row served and its id. */
export interface CursorPosition {
  /** The sort value exactly as the database returned it (timestamps keep their microseconds). */
  readonly key: string;
  readonly id: string;
}

const MAX_CURSOR_LENGTH = 512;

/**
 * Opaque, signed cursors: base64url(JSON) + "." + HMAC. Signing makes a forged or edited cursor a
 * clear 400 instead of a silently different page; `scope` binds a cursor to the list it came from
 * (a cursor of project A's files does not page project B's).
 */
export class CursorCodec {
  constructor(private readonly secret: string) {}

  encode(position: CursorPosition, scope: string): string {
    const body = Buffer.from(JSON.stringify([position.key, position.id])).toString('base64url');
    return `${body}.${this.sign(body, scope)}`;
  }

  /** Decodes a cursor or throws a 400 naming the `cursor` parameter. */
  decode(cursor: string, scope: string): CursorPosition {
    const invalid = () => new BadRequestException('cursor: is invalid or was tampered with; use nextCursor from a previous page');
    if (cursor.length > MAX_CURSOR_LENGTH) throw invalid();
    const dot = cursor.indexOf('.');
    if (dot <= 0) throw invalid();
    const body = cursor.slice(0, dot);
    // Compared as text: decoding base64 would ignore the spare bits of the last character.
    const given = Buffer.from(cursor.slice(dot + 1));
    const expected = Buffer.from(this.sign(body, scope));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') {
      throw invalid();
    }
    return { key: parsed[0], id: parsed[1] };
  }

  private sign(body: string, scope: string): string {
    return createHmac('sha256', this.secret).update(scope).update('\0').update(body).digest('base64url').slice(0, 22);
  }
}

/** What every list route answers. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Builds a page from `limit + 1` rows: the extra row only tells that another page exists.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  map: (row: Row) => Item,
  position: (row: Row) => CursorPosition,
  encode: (position: CursorPosition) => string,
): Page<Item> {
  const more = rows.length > limit;
  const served = more ? rows.slice(0, limit) : rows;
  return {
    items: served.map(map),
    nextCursor: more ? encode(position(served[served.length - 1])) : null,
  };
}
