import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { HelmetOptions } from 'helmet';
import { AppConfig } from '../config/app-config';

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // Swagger UI at /docs styles itself inline; scripts stay 'self' only.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
    },
  },
  // Headers for old browsers' HTML handling; a JSON API gains nothing from them.
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * helmet's headers depend on nothing in the request, so they are computed once here and copied
 * onto every answer. (@fastify/helmet runs helmet per request, re-parsing the CSP each time: a
 * measured 36 µs of a cached GET's ~370 µs; see docs/BENCHMARKS.md.)
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  let done = false;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, response as unknown as ServerResponse, () => (done = true));
  if (!done) throw new Error('helmet did not complete synchronously');
  return headers;
}

/**
 * Security headers on every answer (errors included), and CORS only for the origins in
 * CORS_ORIGINS (none by default: a browser app on another origin must be named explicitly).
 */
export function configureSecurity(app: NestFastifyApplication, config: AppConfig): void {
  const headers = securityHeaders();
  app.getHttpAdapter().getInstance().addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (config.corsOrigins.length > 0) {
    const anyOrigin = config.corsOrigins.includes('*');
    app.enableCors({
      origin: anyOrigin ? true : config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'if-none-match'],
      exposedHeaders: ['x-request-id', 'etag', 'x-cache', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      maxAge: 600,
    });
  }
}
