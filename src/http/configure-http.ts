import { isDeepStrictEqual } from 'node:util';
import { ArgumentMetadata, BadRequestException, Type, ValidationPipe } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { plainToInstance } from 'class-transformer';
import { acceptCheckOf } from './accept-check';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { InputSanityPipe } from './input-sanity.pipe';
import { validationMessages } from './validation-messages';

/**
 * Nest's ValidationPipe with two shortcuts for the inputs most requests send, each giving exactly
 * what the full pipe gives (docs/BENCHMARKS.md, issue #16):
 * - a query DTO given no parameter at all (most GETs): the first empty query of each DTO class is
 *   validated in full, and once it passed, later ones get the same answer rebuilt (the same empty
 *   input gets the same verdict every time): a plain `new` of the class when that is what the pipe
 *   answered (no @Transform adds a default), else class-transformer's instance. The full pipe cost
 *   an uncached GET several µs and about 10 kB of garbage;
 * - a valid value of a DTO that `acceptCheckOf` can check (the small write bodies) skips
 *   class-transformer and class-validator; anything else, every refusal included, takes the full pipe.
 */
class FastPathValidationPipe extends ValidationPipe {
  private readonly emptyQueries = new WeakMap<Type<unknown>, () => unknown>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype as Type<object> | undefined;
    if (metatype === undefined || !this.toValidate(metadata)) return super.transform(value, metadata);
    if (metadata.type === 'query' && isEmptyObject(value)) return this.emptyQuery(value, metadata, metatype);
    return acceptCheckOf(metatype)?.(value) ?? super.transform(value, metadata);
  }

  private async emptyQuery(value: unknown, metadata: ArgumentMetadata, metatype: Type<object>): Promise<unknown> {
    const rebuild = this.emptyQueries.get(metatype);
    if (rebuild !== undefined) return rebuild();
    const entity: unknown = await super.transform(value, metadata);
    const construct = () => new metatype();
    this.emptyQueries.set(metatype, isDeepStrictEqual(construct(), entity) ? construct : () => plainToInstance(metatype, {}, this.transformOptions));
    return entity;
  }
}

function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const _key in value) return false;
  return true;
}

/** Validation of every body, query and params DTO, refusing with one `field: what is wrong` per field. */
export function createValidationPipe(): ValidationPipe {
  return new FastPathValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    // The messages are built from the decorators of each error's target class, and an array's
    // elements are checked one by one from its value; neither leaves the process.
    validationError: { target: true, value: true },
    exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
  });
}

/**
 * The one error shape (Nest routes Fastify's own errors through the filter too) and validation,
 * for every route. The hooks every request passes through are in pipeline.ts.
 */
export function configureHttp(app: NestFastifyApplication): void {
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(new InputSanityPipe(), createValidationPipe());
}
