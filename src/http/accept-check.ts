import { TransformationType } from 'class-transformer';
import { getMetadataStorage, isIn, isString, maxLength, minLength, ValidationTypes } from 'class-validator';

// class-transformer keeps its decorators' metadata here and exports it from no entry point.
const { defaultMetadataStorage: storage } = require('class-transformer/cjs/storage') as typeof import('class-transformer/types/storage');

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];
type Dto = new () => object;

/** The instance the ValidationPipe would return for `value`, or undefined: not known to be valid. */
export type AcceptCheck = (value: unknown) => object | undefined;

// The rules a check runs, by class-validator's name for them: its own functions, so a length is
// counted as class-validator counts it (a surrogate pair is one character).
const RULES: Record<string, (value: unknown, m: ValidationMetadata) => boolean> = {
  isString: (value) => isString(value),
  isIn: (value, m) => isIn(value, m.constraints[0] as readonly unknown[]),
  minLength: (value, m) => minLength(value, m.constraints[0] as number),
  maxLength: (value, m) => maxLength(value, m.constraints[0] as number),
};

interface PropertyCheck {
  readonly name: string;
  /** `@IsOptional()` and the like: when it says no, the property's other rules are skipped. */
  readonly conditions: readonly ValidationMetadata[];
  readonly rules: readonly ValidationMetadata[];
}

const checks = new WeakMap<Dto, AcceptCheck | null>();

/**
 * The activity POST spent ~12 % of its main-thread time in class-transformer and class-validator
 * for a body of two strings (docs/BENCHMARKS.md, round 6). For a DTO whose every decorator is a
 * rule listed above or a condition, and that class-transformer would only copy, this check accepts
 * a valid plain object in a few function calls and returns what the pipe would: an instance of the
 * DTO with the object's properties (not copied). Anything it does not accept goes through the full
 * pipe, so every refusal keeps its exact message. Undefined for any other DTO.
 *
 * Only for the app's pipe options (transform, whitelist, forbidNonWhitelisted, no groups).
 */
export function acceptCheckOf(metatype: Dto): AcceptCheck | undefined {
  let check = checks.get(metatype);
  if (check === undefined) {
    check = compile(metatype);
    checks.set(metatype, check);
  }
  return check ?? undefined;
}

function compile(metatype: Dto): AcceptCheck | null {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
  if (metadata.length === 0 || !transformsNothing(metatype, metadata)) return null;
  const byName = new Map<string, ValidationMetadata[]>();
  for (const m of metadata) {
    if (m.each || (m.groups?.length ?? 0) > 0) return null;
    if (m.type === ValidationTypes.CUSTOM_VALIDATION ? RULES[m.name ?? ''] === undefined : m.type !== ValidationTypes.CONDITIONAL_VALIDATION) return null;
    byName.set(m.propertyName, [...(byName.get(m.propertyName) ?? []), m]);
  }
  const properties: PropertyCheck[] = [...byName].map(([name, ms]) => ({
    name,
    conditions: ms.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION),
    rules: ms.filter((m) => m.type === ValidationTypes.CUSTOM_VALIDATION),
  }));
  const known = new Set(byName.keys());
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    // forbidNonWhitelisted: a property without a decorator is refused, by the full pipe.
    for (const key in value) if (!Object.hasOwn(value, key) || !known.has(key)) return undefined;
    const instance = Object.assign(new metatype(), value) as Record<string, unknown>;
    for (const { name, conditions, rules } of properties) {
      if (conditions.some((c) => !(c.constraints[0] as (o: object, v: unknown) => boolean)(instance, instance[name]))) continue;
      for (const rule of rules) if (!RULES[rule.name!](instance[name], rule)) return undefined;
    }
    return instance;
  };
}

/** No @Type, @Transform, @Expose or @Exclude on the class: class-transformer would only copy the object. */
function transformsNothing(metatype: Dto, metadata: readonly ValidationMetadata[]): boolean {
  if (storage.getStrategy(metatype) !== 'none' || storage.getExposedMetadatas(metatype).length > 0 || storage.getExcludedMetadatas(metatype).length > 0) return false;
  return metadata.every(
    ({ propertyName }) =>
      storage.findTypeMetadata(metatype, propertyName) === undefined &&
      storage.findTransformMetadatas(metatype, propertyName, TransformationType.PLAIN_TO_CLASS).length === 0,
  );
}
