import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MetricsService } from './metrics.service';
import { performanceMonitor } from './performance-monitor';
import { routeTemplate } from '../http/route-template';

/** Routes that are not part of the HTTP series: scraping must not measure itself. */
const UNMEASURED = new Set(['/metrics']);
const UNMATCHED = 'unmatched';
const counted = Symbol('in-flight');

type Measured = FastifyRequest & { [counted]?: boolean };

/**
 * HTTP series from Fastify hooks rather than a Nest interceptor: they see every answer, including
 * 404s for unknown URLs, guard rejections and body-parser errors. The route label is the template
 * (`/api/projects/:id`), or one fixed label for unmatched URLs, so cardinality stays bounded.
 */
@Injectable()
export class HttpMetricsHooks implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const metrics = this.metrics;
    const finish = (request: Measured): boolean => {
      if (!request[counted]) return false;
      request[counted] = false;
      metrics.inFlight--;
      return true;
    };
    fastify.addHook('onRequest', (request: Measured, _reply, done) => {
      if (!UNMEASURED.has(routeTemplate(request) ?? '')) {
        request[counted] = true;
        metrics.inFlight++;
      }
      done();
    });
    fastify.addHook('onResponse', (request: Measured, reply, done) => {
      if (finish(request)) {
        const route = routeTemplate(request) ?? UNMATCHED;
        metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
        performanceMonitor.record(`${request.method} ${route}`, reply.elapsedTime);
      }
      done();
    });
    fastify.addHook('onRequestAbort', (request: Measured, done) => {
      finish(request);
      done();
    });
  }
}
