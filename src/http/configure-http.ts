import { ArgumentMetadata, BadRequestException, Type, ValidationPipe } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { acceptCheckOf } from './accept-check';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { InputSanityPipe } from './input-sanity.pipe';
import { validationMessages } from './validation-messages';

/** A valid value of a DTO that `acceptCheckOf` can check skips class-transformer and class-validator. */
class AcceptingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype as Type<object> | undefined;
    const accepted = metatype !== undefined && this.toValidate(metadata) ? acceptCheckOf(metatype)?.(value) : undefined;
    return accepted ?? super.transform(value, metadata);
  }
}

/** Validation of every body, query and params DTO, refusing with one `field: what is wrong` per field. */
export function createValidationPipe(): ValidationPipe {
  return new AcceptingValidationPipe({
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
