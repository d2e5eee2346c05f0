import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { answerClientError } from './http/client-errors';
import { configureHttp } from './http/configure-http';
import { errorBody } from './http/error-body';
import { installJsonBody } from './http/json-body';
import { createRootLogger, PinoNestLogger } from './http/logger';
import { requestIdFor } from './http/request-id';
import { requestLogger } from './http/request-logger';
import { configureCors } from './http/security';
import { setUpOpenApi } from './pipeline/openapi';
import { installPipeline } from './pipeline/pipeline';

// How often Node looks for requests past REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS (its default,
// 30 s, would let a slow client outlive its deadline by that much).
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Builds and initialises the application (not yet listening). Used by main.ts and the tests, which
 * may give a root module of their own that imports AppModule next to test controllers.
 */
export async function createApp(config: AppConfig, logger: Pino = createRootLogger(config), root: DynamicModule | Type<unknown> = AppModule.register(config)): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    childLoggerFactory: requestLogger,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    // A client that sends its headers or body slowly (a byte every few seconds) gets a 408 and
    // loses its connection instead of holding it, and shutdown, indefinitely.
    requestTimeout: config.timeouts.requestMs,
    keepAliveTimeout: config.timeouts.keepAliveMs,
    http: {
      requestTimeout: config.timeouts.requestMs,
      headersTimeout: config.timeouts.headersMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    // Keep-alive sockets with no request in flight are closed at once on shutdown.
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
    // No Nest middleware here (hooks and guards do that work), so no @fastify/middie: it would be
    // one more onRequest hook on every request. Adding middleware needs this removed.
    skipMiddie: true,
    // Errors Fastify's router raises before any handler (malformed URL, over-long path parameter)
    // get the one error shape too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      void reply.status(status).header('x-request-id', request.id).send(errorBody(status, error.message, request.id));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
    logger: new PinoNestLogger(logger),
    // Fastify's own JSON parser only: the API takes JSON, and Nest would also accept form bodies.
    bodyParser: false,
  });
  configureApp(app, config);
  await app.init();
  return app;
}

/**
 * Everything between creating a Nest app and initialising it: CORS, the error shape and validation,
 * the body parser, the request pipeline (which must see every route as it is registered), and the
 * OpenAPI document.
 */
function configureApp(app: NestFastifyApplication, config: AppConfig): void {
  configureCors(app, config);
  configureHttp(app);
  installJsonBody(app.getHttpAdapter().getInstance(), config.jsonMaxDepth);
  setUpOpenApi(app, installPipeline(app, { cacheEnabled: config.cache.enabled }));
}
