import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeTemplate } from '../http/route-policy';
import { requestExemplar } from './exemplars';
import { MetricsService } from './metrics.service';
import { performanceMonitor } from './performance-monitor';

/** Routes that are not part of the HTTP series: scraping must not measure itself. */
const UNMEASURED = '/metrics';
const UNMATCHED = 'unmatched';
const counted = Symbol('in-flight');

type Measured = FastifyRequest & { [counted]?: boolean };

/**
 * HTTP series, fed by the request pipeline's hooks rather than a Nest interceptor: they see every
 * answer, including 404s for unknown URLs, refusals before the body is read and body-parser
 * errors. The route label is the template (`/api/projects/:id`), or one fixed label for unmatched
 * URLs, so cardinality stays bounded.
 */
@Injectable()
export class HttpMetrics {
  constructor(private readonly metrics: MetricsService) {}

  started(request: Measured): void {
    if (routeTemplate(request) === UNMEASURED) return;
    request[counted] = true;
    this.metrics.inFlight++;
  }

  answered(request: Measured, reply: FastifyReply): void {
    if (!this.finish(request)) return;
    const route = routeTemplate(request) ?? UNMATCHED;
    const exemplar = this.metrics.exemplars ? requestExemplar(request) : undefined;
    this.metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000, exemplar);
    performanceMonitor.record(`${request.method} ${route}`, reply.elapsedTime);
  }

  aborted(request: Measured): void {
    this.finish(request);
  }

  private finish(request: Measured): boolean {
    if (!request[counted]) return false;
    request[counted] = false;
    this.metrics.inFlight--;
    return true;
  }
}
