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
  // Headers for old browsers' handling of downloads and plugins; the Swagger page needs none of them.
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * helmet's headers for the Swagger UI page, the one HTML the service serves. They depend on nothing
 * in the request, so they are computed once and copied onto each answer (@fastify/helmet runs
 * helmet per request, re-parsing the CSP each time; docs/BENCHMARKS.md, round 1, has the figure).
 */
export function documentHeaders(): Record<string, string> {
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
 * The JSON API's answers are never rendered as pages, so they get the OWASP REST set rather than
 * helmet's page-oriented one: a CSP that allows nothing and forbids framing, HSTS, nosniff and
 * DENY. Each extra header is bytes and work on every answer, a cached GET included.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/**
 * CORS only for the origins in CORS_ORIGINS (none by default: a browser app on another origin must
 * be named explicitly). Nest's Fastify adapter registers @fastify/cors for this (hence the direct
 * dependency, which no file here imports). The security headers are set by the request pipeline
 * (pipeline.ts).
 */
export function configureCors(app: NestFastifyApplication, config: AppConfig): void {
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
