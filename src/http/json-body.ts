import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one body parser: JSON in UTF-8, bounded before JSON.parse runs. Fastify's own text/plain
 * parser is removed, so any other type is a 415 (a JSON body sent as text/plain used to arrive as
 * a string). Bytes that are not UTF-8 are a 400, not silently turned into U+FFFD (two different
 * paths could then collide). A linear scan refuses nesting past `maxDepth` (JSON.parse and every
 * later walk of the value are recursive: a 6 MB `[[[[…` blocked the loop for seconds) and numbers
 * a JavaScript number cannot keep (1e400 would be stored as null). Then Fastify's own parser, with
 * its prototype-poisoning checks.
 */
export function installJsonBody(fastify: FastifyInstance, maxDepth: number): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return done(new BodyError(415, `Unsupported Media Type: JSON bodies are UTF-8, not ${charset}`), undefined);
    }
    if (body.length === 0) return done(new BodyError(400, 'body: is empty; send a JSON document'), undefined);
    if (!isUtf8(body)) return done(new BodyError(400, 'body: is not valid UTF-8'), undefined);
    const problem = jsonShapeProblem(body, maxDepth);
    if (problem !== undefined) return done(new BodyError(400, `body: ${problem}`), undefined);
    const text = body.toString('utf8');
    parse(request, text, (err, value) => (err ? done(new BodyError(400, `body: ${parseProblem(text)}`), undefined) : done(null, value)));
  });
}

/**
 * Fastify's parser answers one error for malformed JSON and for a poisoning key alike; telling
 * them apart costs a second parse, on refused bodies only.
 */
function parseProblem(text: string): string {
  try {
    JSON.parse(text);
    return 'must not contain __proto__ or constructor.prototype keys';
  } catch {
    return 'is not valid JSON';
  }
}

/**
 * What makes a JSON text unacceptable before it is parsed: nesting deeper than `maxDepth`, or a
 * number that would not be kept exactly. Linear in the body, and stops at the first problem;
 * malformed JSON is left to JSON.parse to report.
 */
export function jsonShapeProblem(bytes: Buffer, maxDepth: number): string | undefined {
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = closingQuote(bytes, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < n && isNumberByte(bytes[end])) end++;
      const problem = numberProblem(bytes.toString('latin1', i, end));
      if (problem !== undefined) return problem;
      i = end - 1;
    }
  }
  return undefined;
}

/** The index of the quote closing the string opened at `open`, or -1. Skips the text natively. */
function closingQuote(bytes: Buffer, open: number): number {
  let at = open;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    for (let k = at - 1; bytes[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Why a JSON number token would not survive as a JavaScript number, or undefined: it must denote
 * the same decimal value as the number it parses to prints (so 1e20 and 0.1 are fine, while
 * 9007199254740993 and 1e400 would be stored as something else).
 */
export function numberProblem(token: string): string | undefined {
  const sent = decimal(token);
  if (sent === undefined) return undefined;
  const value = Number(token);
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  if (!Number.isFinite(value)) return `number ${shown} is too large to be kept`;
  if (decimal(String(value)) === sent) return undefined;
  if (value === 0) return `number ${shown} is too small to be kept`;
  return Number.isInteger(value) && !Number.isSafeInteger(value)
    ? `number ${shown} is past 2^53 and would not be kept exactly`
    : `number ${shown} has more digits than can be kept`;
}

/** A decimal text reduced to `<sign><digits>e<exponent>` with no leading or trailing zeros. */
function decimal(text: string): string | undefined {
  const parts = DECIMAL.exec(text);
  if (parts === null) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = parts;
  let digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let scale = Number(exponent) - fraction.length;
  const trimmed = digits.replace(/0+$/, '');
  scale += digits.length - trimmed.length;
  digits = trimmed;
  return `${sign}${digits}e${scale}`;
}
