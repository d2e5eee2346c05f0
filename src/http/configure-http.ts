import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as Pino } from 'pino';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { InputSanityPipe } from './input-sanity.pipe';
import { routeTemplate } from './route-template';

/** Flattens class-validator errors into "field: problem" lines, nested fields dotted. */
export function validationMessages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((c) => (c.startsWith(e.property) ? `${prefix}${c}` : `${field}: ${c}`));
    return [...own, ...validationMessages(e.children ?? [], `${field}.`)];
  });
}

/**
 * Everything HTTP that is the same for every route: request ids echoed back, one log line per
 * request, validation, and the one error shape (Nest routes Fastify's own errors through the filter).
 */
export function configureHttp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // One line per request at info; with info off (e.g. LOG_LEVEL=warn) the hook is not even added.
  if ((fastify.log as unknown as Pino).isLevelEnabled('info')) {
    fastify.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          route: routeTemplate(request) ?? 'unmatched',
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
      done();
    });
  }

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
