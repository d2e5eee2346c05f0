import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

// class-transformer silently drops these keys (prototype-pollution guard), so the whitelist would
// never see them and a request carrying them would be accepted: refuse them like any unknown field.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Runs before validation on bodies, queries and params: text that cannot be stored is refused with
 * a 400 naming the field, instead of reaching PostgreSQL (which rejects NUL) or being silently
 * rewritten (an unpaired UTF-16 surrogate becomes U+FFFD, so two different paths could collide).
 * Nesting is already bounded by the body parser (json-body.ts), so the walk is too.
 */
@Injectable()
export class InputSanityPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      check(value, '');
    }
    return value;
  }
}

function check(value: unknown, path: string): void {
  if (typeof value === 'string') {
    const field = path || 'body';
    if (value.includes('\u0000')) throw new BadRequestException(`${field}: contains a NUL character`);
    if (!value.isWellFormed()) throw new BadRequestException(`${field}: contains an unpaired UTF-16 surrogate (not valid Unicode)`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, path ? `${path}.${i}` : String(i)));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || key.includes('\u0000')) throw new BadRequestException(`${path || 'body'}: has a key that is not valid text`);
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) throw new BadRequestException(`${field}: property ${key} should not exist`);
    check(item, field);
  }
}
