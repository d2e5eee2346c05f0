import { getMetadataStorage, MetadataStorage, ValidationError, ValidationTypes } from 'class-validator';

// The package exports the storage, not the type of what it stores.
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/**
 * What a field must be, worked out once per DTO property from its decorators, so that every
 * failure of that field is told in the same words, with the limits the decorators hold.
 */
interface FieldRule {
  /** `an integer from 1 to 100`, `a string of 1 to 200 characters`, `one of active, archived`. */
  readonly shape: string | undefined;
  /** For an array whose only fault is its length: `1 to 100 items`. */
  readonly size: string | undefined;
  /** Constraints checked on each element of an array (`@IsUUID('all', { each: true })`). */
  readonly each: readonly ValidationMetadata[];
  /** A message of the field's own (`$property: must be a date-time ...`), which states its format whole. */
  readonly ownMessage: string | undefined;
}

// Constraints that say what type a value is, and how each is named in a message.
const TYPES: Record<string, (m: ValidationMetadata) => string> = {
  isString: () => 'a string',
  isInt: () => 'an integer',
  isNumber: () => 'a number',
  isBoolean: () => 'true or false',
  isEmail: () => 'an email address',
  isUuid: () => 'a UUID',
  isIn: (m) => `one of ${(m.constraints[0] as unknown[]).join(', ')}`,
  isArray: () => 'an array',
};
const BOUNDS = new Set(['min', 'max', 'minLength', 'maxLength', 'arrayMinSize', 'arrayMaxSize']);
const SIZES = new Set(['arrayMinSize', 'arrayMaxSize']);
// Faults of the value as a whole, told by the field's shape rather than by the constraint.
const SHAPE = new Set([...Object.keys(TYPES), ...BOUNDS, ValidationTypes.NESTED_VALIDATION]);

const rules = new WeakMap<object, Map<string, FieldRule>>();

/**
 * One `field: what is wrong` line per failing field, nested fields and array elements dotted
 * (`items.0.agent: is required`, `ids.3: must be a UUID`). class-validator reports every
 * constraint a value breaks ("must not be greater than 100; must not be less than 1; must be an
 * integer number" for 1.5); a person needs the one rule the field follows, with its limits.
 * Needs the errors' targets (`validationError: { target: true }`) to find the decorators.
 */
export function validationMessages(errors: readonly ValidationError[], prefix = ''): string[] {
  const out: string[] = [];
  for (const error of errors) collect(error, prefix, out);
  return out;
}

function collect(error: ValidationError, prefix: string, out: string[]): void {
  const field = prefix + (error.property || 'body');
  const failed = Object.keys(error.constraints ?? {});
  // A field that is itself wrong says so once; what its children lack would only repeat it.
  if (failed.length > 0) {
    out.push(...problems(error, field, failed));
    return;
  }
  for (const child of error.children ?? []) collect(child, `${field}.`, out);
}

function problems(error: ValidationError, field: string, failed: string[]): string[] {
  if (failed.includes(ValidationTypes.WHITELIST)) return [`${field}: is not allowed`];
  // Nest's ValidationPipe refuses a body that is not an object (`isObject`), class-validator one
  // it has no class for (`unknownValue`); neither error carries the value.
  if (failed.includes('isObject') || failed.includes('unknownValue')) return [`${field}: must be a JSON object`];
  if (error.value === undefined) return [`${field}: is required`];

  const rule = ruleOf(error.target, error.property);
  if (failed.some((name) => SHAPE.has(name) && !rule.each.some((m) => m.name === name))) {
    if (failed.every((name) => SIZES.has(name)) && rule.size !== undefined) return [`${field}: must contain ${rule.size}`];
    if (rule.shape !== undefined) return [`${field}: must be ${rule.shape}`];
    if (failed.includes(ValidationTypes.NESTED_VALIDATION)) return [`${field}: must be an object`];
  }
  const eachFailed = rule.each.filter((m) => m.name !== undefined && failed.includes(m.name));
  if (eachFailed.length > 0) {
    const elements = elementProblems(error, field, eachFailed);
    if (elements.length > 0) return elements;
  }
  if (rule.ownMessage !== undefined) return [`${field}: ${rule.ownMessage}`];
  return [`${field}: ${withoutField(error.constraints![failed[0]], error.property)}`];
}

/** `ids.3: must be a UUID` for each element that breaks an each-constraint, in order. */
function elementProblems(error: ValidationError, field: string, each: ValidationMetadata[]): string[] {
  const value = error.value as unknown;
  const elements: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [`${field}.${i}`, v]) : [[field, value]];
  const out: string[] = [];
  for (const [name, element] of elements) {
    const broken = each.find((m) => !passes(m, element, error));
    if (broken !== undefined) out.push(`${name}: ${elementProblem(broken, error)}`);
  }
  return out;
}

/** An asynchronous constraint cannot be run again here: it counts as passed, and the field keeps class-validator's message. */
function passes(m: ValidationMetadata, value: unknown, error: ValidationError): boolean {
  const args = { value, constraints: m.constraints, targetName: m.target instanceof Function ? m.target.name : m.target, object: error.target as object, property: error.property };
  return getMetadataStorage()
    .getTargetValidatorConstraints(m.constraintCls)
    .every((constraint) => (constraint.instance as { validate(v: unknown, a: unknown): unknown }).validate(value, args) !== false);
}

function elementProblem(m: ValidationMetadata, error: ValidationError): string {
  const type = TYPES[m.name!];
  return type !== undefined ? `must be ${type(m)}` : withoutField(error.constraints![m.name!], error.property);
}

function ruleOf(target: object | undefined, property: string): FieldRule {
  const type = (target as { constructor?: object } | undefined)?.constructor;
  if (type === undefined) return buildRule([], property);
  let byProperty = rules.get(type);
  if (byProperty === undefined) {
    byProperty = new Map();
    rules.set(type, byProperty);
  }
  let rule = byProperty.get(property);
  if (rule === undefined) {
    const metadata = getMetadataStorage()
      .getTargetValidationMetadatas(type as new () => object, '', true, false)
      .filter((m) => m.propertyName === property);
    rule = buildRule(metadata, property);
    byProperty.set(property, rule);
  }
  return rule;
}

function buildRule(metadata: ValidationMetadata[], property: string): FieldRule {
  const own = metadata.filter((m) => !m.each && m.name !== undefined);
  const named = (name: string) => own.find((m) => m.name === name)?.constraints?.[0] as number | undefined;
  const type = own.find((m) => TYPES[m.name!] !== undefined);
  const numbers = range(named('min'), named('max'));
  const characters = count(named('minLength'), named('maxLength'), 'character');
  const items = count(named('arrayMinSize'), named('arrayMaxSize'), 'item');

  const places = type?.name === 'isNumber' ? (type.constraints?.[0] as { maxDecimalPlaces?: number } | undefined)?.maxDecimalPlaces : undefined;

  let shape: string | undefined;
  if (type?.name === 'isIn') shape = TYPES.isIn(type);
  else if (type !== undefined) {
    shape = [TYPES[type.name!](type), numbers ?? characters ?? items, places === undefined ? undefined : `with at most ${places} decimal places`].filter(Boolean).join(' ');
  } else if (numbers !== undefined) shape = `a number ${numbers}`;
  else if (characters !== undefined) shape = `a string ${characters}`;
  else if (items !== undefined) shape = `an array ${items}`;

  const message = metadata.find((m) => m.type === ValidationTypes.CUSTOM_VALIDATION && typeof m.message === 'string' && !SHAPE.has(m.name ?? ''))?.message as string | undefined;
  return {
    shape,
    size: items?.replace(/^of /, ''),
    each: metadata.filter((m) => m.each && m.type === ValidationTypes.CUSTOM_VALIDATION),
    ownMessage: message === undefined ? undefined : withoutField(message.replaceAll('$property', property), property),
  };
}

function range(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (min !== undefined) return `of at least ${min}`;
  if (max !== undefined) return `of at most ${max}`;
  return undefined;
}

function count(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  const units = (n: number) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (min !== undefined && max !== undefined) return min === max ? `of exactly ${units(min)}` : `of ${min} to ${units(max)}`;
  if (min !== undefined) return `of at least ${units(min)}`;
  if (max !== undefined) return `of at most ${units(max)}`;
  return undefined;
}

/** A message without the field name class-validator puts in front ("name must be ...", "each value in ids must ..."). */
function withoutField(message: string, property: string): string {
  for (const lead of [`${property}: `, `${property} `, `each value in ${property} `, `each value in nested property ${property} `, `nested property ${property} `]) {
    if (message.startsWith(lead)) return message.slice(lead.length);
  }
  return message;
}
