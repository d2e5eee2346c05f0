import { BadRequestException } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { createValidationPipe } from './configure-http';

class RequiredQuery {
  @IsString()
  q!: string;
}

class DefaultedQuery {
  @IsOptional()
  @IsInt()
  limit = 20;
}

class TransformedQuery {
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',') : value))
  include?: string[];
}

describe('the validation pipe on an empty query', () => {
  it('refuses a query with a required parameter every time, not only the first', async () => {
    const sut = createValidationPipe();
    for (let i = 0; i < 3; i++) {
      await expect(sut.transform({}, { type: 'query', metatype: RequiredQuery })).rejects.toBeInstanceOf(BadRequestException);
    }
  });

  it.each([DefaultedQuery, TransformedQuery])('answers later empty queries of %p as it answered the first', async (metatype) => {
    const sut = createValidationPipe();
    const first = await sut.transform({}, { type: 'query', metatype });
    const second = await sut.transform({}, { type: 'query', metatype });
    expect(second).toBeInstanceOf(metatype);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it('still validates a query that is not empty', async () => {
    const sut = createValidationPipe();
    await sut.transform({}, { type: 'query', metatype: DefaultedQuery });
    await expect(sut.transform({ limit: 'x' }, { type: 'query', metatype: DefaultedQuery })).rejects.toBeInstanceOf(BadRequestException);
  });
});
