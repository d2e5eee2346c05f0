import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

// class-transformer silently drops these keys (prototype-pollution guard), so the whitelist would
// never see them and a request carrying them would be accepted: refuse them like any unknown field.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const NOT_CLASSES: unknown[] = [Object, Array, String, Number, Boolean];

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
      // An array or a bare value for a DTO would reach class-validator as an object with
      // properties 0, 1, ... (each "not allowed") and none of the DTO's own. No body at all is
      // an empty object to the ValidationPipe, which then names each required field.
      if (metadata.type === 'body' && isDto(metadata.metatype) && value != null && (typeof value !== 'object' || Array.isArray(value))) {
        throw new BadRequestException('body: must be a JSON object');
      }
      check(value, '', metadata.data ?? metadata.type);
    }
    return value;
  }
}

function isDto(metatype: unknown): boolean {
  return typeof metatype === 'function' && !NOT_CLASSES.includes(metatype);
}

/** `root` names a value that is not inside an object: a path parameter's name, or `body`. */
function check(value: unknown, path: string, root: string): void {
  if (typeof value === 'string') {
    const field = path || root;
    if (value.includes('\u0000')) throw new BadRequestException(`${field}: contains a NUL character`);
    if (!value.isWellFormed()) throw new BadRequestException(`${field}: contains an unpaired UTF-16 surrogate (not valid Unicode)`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, path ? `${path}.${i}` : String(i), root));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || key.includes('\u0000')) throw new BadRequestException(`${path || root}: has a key that is not valid text`);
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) throw new BadRequestException(`${field}: is not allowed`);
    check(item, field, root);
  }
}
