import { randomUUID } from 'node:crypto';
import { BadRequestException, Type } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CreateActivityBatchBody, ListActivitiesQuery } from '../activities/activity.dto';
import { CreateUserBody } from '../auth/auth.dto';
import { DbTestQuery } from '../debugging/debug.dto';
import { CreateFileBody } from '../files/file.dto';
import { BatchGetBody, CreateProjectBody, GetProjectQuery, ListProjectsQuery, UpdateProjectBody } from '../projects/project.dto';
import { createValidationPipe } from './configure-http';

/** The messages the app's own ValidationPipe answers for `value` as a `type` of class `metatype`. */
async function messagesFor(metatype: Type<unknown>, value: unknown, type: 'body' | 'query' = 'body'): Promise<string[]> {
  try {
    await createValidationPipe().transform(value, { type, metatype });
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestException);
    return ((err as BadRequestException).getResponse() as { message: string[] }).message;
  }
  throw new Error('the value passed validation');
}

const uuids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('validationMessages', () => {
  it.each([
    ['1.5', 'a fraction'],
    ['0', 'under the minimum'],
    ['101', 'over the maximum'],
    ['ten', 'not a number'],
    ['1e3', 'an exponent'],
  ])('answers one message for limit=%s (%s), with the range of the decorators', async (limit) => {
    expect(await messagesFor(ListProjectsQuery, { limit }, 'query')).toEqual(['limit: must be an integer from 1 to 100']);
  });

  it('says a missing field is required, and a wrong one what it must be', async () => {
    expect(await messagesFor(CreateProjectBody, {})).toEqual(['name: is required']);
    for (const name of ['', 'n'.repeat(201), 42, null]) {
      expect(await messagesFor(CreateProjectBody, { name })).toEqual(['name: must be a string of 1 to 200 characters']);
    }
    expect(await messagesFor(UpdateProjectBody, { name: null })).toEqual(['name: must be a string of 1 to 200 characters']);
  });

  it('lists the allowed values of an enum', async () => {
    expect(await messagesFor(CreateProjectBody, { name: 'x', status: 'deleted' })).toEqual(['status: must be one of active, archived, completed, draft']);
  });

  it('answers one message per failing field: unknown ones first, then the fields in order', async () => {
    expect(await messagesFor(CreateProjectBody, { name: '', description: 7, status: 'gone', foo: 1 })).toEqual([
      'foo: is not allowed',
      'name: must be a string of 1 to 200 characters',
      'description: must be a string of at most 10000 characters',
      'status: must be one of active, archived, completed, draft',
    ]);
  });

  it('tells an array of the wrong size from an array with a wrong element, naming the element', async () => {
    expect(await messagesFor(BatchGetBody, { ids: [] })).toEqual(['ids: must contain 1 to 100 items']);
    expect(await messagesFor(BatchGetBody, { ids: uuids(101) })).toEqual(['ids: must contain 1 to 100 items']);
    expect(await messagesFor(BatchGetBody, { ids: 'abc' })).toEqual(['ids: must be an array of 1 to 100 items']);
    expect(await messagesFor(BatchGetBody, { ids: [...uuids(3), 'x', randomUUID(), 7] })).toEqual(['ids.3: must be a UUID', 'ids.5: must be a UUID']);
    expect(await messagesFor(GetProjectQuery, { include: 'files,secrets' }, 'query')).toEqual(['include.1: must be one of files, activities']);
    expect(await messagesFor(GetProjectQuery, { include: 'files,files,activities' }, 'query')).toEqual(['include: must contain at most 2 items']);
  });

  it('dots nested fields and array elements', async () => {
    const ok = { agent: 'planner', action: 'planned' };
    expect(await messagesFor(CreateActivityBatchBody, { items: [ok, { action: 'x' }] })).toEqual(['items.1.agent: is required']);
    expect(await messagesFor(CreateActivityBatchBody, { items: [null, ok, { ...ok, id: 1 }] })).toEqual(['items.0: must be an object', 'items.2.id: is not allowed']);
    expect(await messagesFor(CreateActivityBatchBody, { items: [{ ...ok, agent: 'a'.repeat(101) }] })).toEqual(['items.0.agent: must be a string of 1 to 100 characters']);
    // Not an array at all: one message, not one per field its elements would lack.
    expect(await messagesFor(CreateActivityBatchBody, { items: {} })).toEqual(['items: must be an array of 1 to 1000 items']);
  });

  it("uses a field's own message, which states its format whole, for a format fault", async () => {
    const dateTime = 'since: must be a date-time with a time zone (offset within +/-15:59), like 2025-05-01T12:00:00Z';
    // The first breaks both the ISO-8601 check and the pattern; the second (February 30th) only the ISO-8601 one.
    expect(await messagesFor(ListActivitiesQuery, { since: 'yesterday' }, 'query')).toEqual([dateTime]);
    expect(await messagesFor(ListActivitiesQuery, { since: '2025-02-30T00:00:00Z' }, 'query')).toEqual([dateTime]);
    expect(await messagesFor(CreateFileBody, { path: 'a.txt', content: 'x', language: 'ty\npe' })).toEqual([
      'language: must not contain control characters (U+0000-U+001F, U+007F)',
    ]);
    expect(await messagesFor(CreateFileBody, { path: '../x', content: 'x' })).toEqual(["path: must not contain '.' or '..' segments"]);
  });

  it('names emails, decimals and lower bounds', async () => {
    expect(await messagesFor(CreateUserBody, { email: 'not an email', password: 'long enough' })).toEqual(['email: must be an email address of at most 254 characters']);
    expect(await messagesFor(CreateUserBody, { email: 'a@example.com', password: 'seven77' })).toEqual(['password: must be a string of 8 to 1024 characters']);
    expect(await messagesFor(DbTestQuery, { delay: '30.5' }, 'query')).toEqual(['delay: must be a number from 0 to 30 with at most 3 decimal places']);
  });

  it('reads the limits from whatever decorators a class has', async () => {
    class Probe {
      @IsInt()
      @Min(5)
      count: number;

      @IsOptional()
      @IsInt()
      @Max(9)
      top?: number;

      @IsOptional()
      @IsString()
      @MinLength(3)
      code?: string;

      @IsOptional()
      @IsString()
      @MinLength(4)
      @MaxLength(4)
      pin?: string;
    }

    expect(await messagesFor(Probe, { count: 4, top: 10, code: 'ab', pin: '123' })).toEqual([
      'count: must be an integer of at least 5',
      'top: must be an integer of at most 9',
      'code: must be a string of at least 3 characters',
      'pin: must be a string of exactly 4 characters',
    ]);
  });
});
