import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

const MAX_DEPTH = 32;

/**
 * Runs before validation on bodies, queries and params: text that cannot be stored is refused with
 * a 400 naming the field, instead of reaching PostgreSQL (which rejects NUL) or being silently
 * rewritten (an unpaired UTF-16 surrogate becomes U+FFFD, so two different paths could collide).
 * Also bounds nesting, so a hostile document cannot make later steps recurse without limit.
 */
@Injectable()
export class InputSanityPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      check(value, '', 0);
    }
    return value;
  }
}

function check(value: unknown, path: string, depth: number): void {
  if (typeof value === 'string') {
    const field = path || 'body';
    if (value.includes('\u0000')) throw new BadRequestException(`${field}: contains a NUL character`);
    if (!value.isWellFormed()) throw new BadRequestException(`${field}: contains an unpaired UTF-16 surrogate (not valid Unicode)`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_DEPTH) throw new BadRequestException(`${path || 'body'}: nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, path ? `${path}.${i}` : String(i), depth + 1));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || key.includes('\u0000')) throw new BadRequestException(`${path || 'body'}: has a key that is not valid text`);
    check(item, path ? `${path}.${key}` : key, depth + 1);
  }
}
