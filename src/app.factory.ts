import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { configureHttp } from './http/configure-http';
import { errorBody } from './http/error-body';
import { createRootLogger, PinoNestLogger } from './http/logger';
import { requestIdFor } from './http/request-id';
import { configureSecurity } from './http/security';

/** Builds and initialises the application (not yet listening). Used by main.ts and the tests. */
export async function createApp(config: AppConfig, logger: Pino = createRootLogger(config)): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    // Keep-alive sockets with no request in flight are closed at once on shutdown.
    forceCloseConnections: 'idle',
    // No Nest middleware here (hooks and guards do that work), so no @fastify/middie: it would be
    // one more onRequest hook on every request. Adding middleware needs this removed.
    skipMiddie: true,
    // Errors Fastify's router raises before any handler (malformed URL, over-long path parameter)
    // get the one error shape too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      void reply.status(status).send(errorBody(status, error.message, request.id));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger: new PinoNestLogger(logger),
    // Fastify's own JSON parser only: the API takes JSON, and Nest would also accept form bodies.
    bodyParser: false,
  });
  configureSecurity(app, config);
  configureHttp(app);
  setUpOpenApi(app);
  await app.init();
  return app;
}

/** The spec is generated from the controllers and DTOs: Swagger UI at /docs, JSON at /docs-json. */
function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('projects-backend')
    .setDescription('Projects, files and agent activities. Every error: {statusCode, error, message, requestId}.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
