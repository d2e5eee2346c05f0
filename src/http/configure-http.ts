import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { InputSanityPipe } from './input-sanity.pipe';

/** Flattens class-validator errors into "field: problem" lines, nested fields dotted. */
export function validationMessages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((c) => (c.startsWith(e.property) ? `${prefix}${c}` : `${field}: ${c}`));
    return [...own, ...validationMessages(e.children ?? [], `${field}.`)];
  });
}

/**
 * The one error shape (Nest routes Fastify's own errors through the filter too) and validation,
 * for every route. The hooks every request passes through are in pipeline.ts.
 */
export function configureHttp(app: NestFastifyApplication): void {
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(
    new InputSanityPipe(),
    new ValidationPipe({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
    }),
  );
}
