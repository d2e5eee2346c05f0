import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateActivityBatchBody, CreateActivityBody, ListActivitiesQuery } from '../activities/activity.dto';
import { CreateProjectBody, GetProjectQuery, UpdateProjectBody } from '../projects/project.dto';
import { acceptCheckOf } from './accept-check';
import { createValidationPipe } from './configure-http';

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };

/** What class-transformer and class-validator make of `value`: the instance, or undefined when refused. */
function throughClassValidator<T extends object>(metatype: new () => T, value: unknown): T | undefined {
  const instance = plainToInstance(metatype, structuredClone(value));
  return validateSync(instance, OPTIONS).length === 0 ? instance : undefined;
}

describe('acceptCheckOf', () => {
  const activity = acceptCheckOf(CreateActivityBody)!;

  it.each([
    ['no payload', { agent: 'planner', action: 'file.edited' }],
    ['an object payload', { agent: 'planner', action: 'file.edited', payload: { file: 'src/a.ts', lines: [1, 2], nested: { ok: true, n: null } } }],
    ['a null payload', { agent: 'a', action: 'b', payload: null }],
    ['a string payload', { agent: 'a', action: 'b', payload: 'text' }],
    ['100 characters, the last a surrogate pair class-validator counts as one', { agent: `${'a'.repeat(99)}😀`, action: 'a'.repeat(100) }],
  ])('accepts %s as the class-validator path does, with the same instance', (_case, body) => {
    const expected = throughClassValidator(CreateActivityBody, body);
    expect(expected).toBeDefined();
    const accepted = activity(body);
    expect(accepted).toBeInstanceOf(CreateActivityBody);
    expect(accepted).toStrictEqual(expected);
  });

  it.each([
    ['an empty agent', { agent: '', action: 'b' }],
    ['an agent of 101 characters', { agent: 'a'.repeat(101), action: 'b' }],
    ['a numeric agent', { agent: 7, action: 'b' }],
    ['a null action', { agent: 'a', action: null }],
    ['no action', { agent: 'a' }],
    ['an unknown field', { agent: 'a', action: 'b', createdAt: '2000-01-01T00:00:00Z' }],
  ])('leaves %s to the full pipe, which refuses it', (_case, body) => {
    expect(throughClassValidator(CreateActivityBody, body)).toBeUndefined();
    expect(activity(body)).toBeUndefined();
  });

  it('leaves a value that is not an object to the full pipe', () => {
    for (const body of [[{ agent: 'a', action: 'b' }], null, undefined, 'agent']) expect(activity(body)).toBeUndefined();
  });

  it('follows ValidateIf and IsIn like class-validator', () => {
    const update = acceptCheckOf(UpdateProjectBody)!;
    const create = acceptCheckOf(CreateProjectBody)!;
    for (const body of [{}, { name: 'n' }, { description: null }, { status: 'archived' }]) {
      expect(update(body)).toStrictEqual(throughClassValidator(UpdateProjectBody, body));
      expect(update(body)).toBeDefined();
    }
    for (const body of [{ name: null }, { status: null }, { status: 'gone' }, { description: 5 }]) {
      expect(throughClassValidator(UpdateProjectBody, body)).toBeUndefined();
      expect(update(body)).toBeUndefined();
    }
    expect(create({ name: 'n', status: 'active', description: null })).toStrictEqual(throughClassValidator(CreateProjectBody, { name: 'n', status: 'active', description: null }));
    expect(create({ name: 'n', status: 'ACTIVE' })).toBeUndefined();
  });

  it('has no check for a DTO that class-transformer changes or with rules it does not know', () => {
    expect(acceptCheckOf(CreateActivityBatchBody)).toBeUndefined();
    expect(acceptCheckOf(ListActivitiesQuery)).toBeUndefined();
    expect(acceptCheckOf(GetProjectQuery)).toBeUndefined();
  });

  it('leaves the refusals, and their messages, to the full pipe', async () => {
    const pipe = createValidationPipe();
    const body = { agent: 'a'.repeat(101), action: 'b', extra: 1 };
    await expect(pipe.transform(body, { type: 'body', metatype: CreateActivityBody })).rejects.toMatchObject({
      response: { message: ['extra: is not allowed', 'agent: must be a string of 1 to 100 characters'] },
    });
    expect(await pipe.transform({ agent: 'a', action: 'b' }, { type: 'body', metatype: CreateActivityBody })).toBeInstanceOf(CreateActivityBody);
  });
});
