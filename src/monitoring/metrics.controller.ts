import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../access/auth.decorators';
import { bearerCredentials } from '../access/bearer';
import { AppConfig } from '../config/app-config';
import { Unthrottled } from '../http/rate-limit/rate-limit-step';
import { MetricsService } from './metrics.service';
import { CONTENT_TYPES, formatFor } from './open-metrics';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * GET /metrics for Prometheus: open, or behind METRICS_TOKEN; never throttled or cached. OpenMetrics
 * (with exemplars) when the scraper accepts it, else the Prometheus text format.
 */
@Public()
@Unthrottled()
@ApiExcludeController()
@Controller()
export class MetricsController extends PrometheusController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  @Get()
  override async index(@Res({ passthrough: true }) response: FastifyReply, @Req() request?: FastifyRequest): Promise<string> {
    const token = this.config.metricsToken;
    if (token !== undefined) {
      const given = bearerCredentials(request?.headers.authorization ?? '');
      if (given === undefined || !sameSecret(given, token)) {
        throw new UnauthorizedException('Metrics need Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    const { format, text } = await this.metrics.exposition(formatFor(request?.headers.accept));
    response.header('content-type', CONTENT_TYPES[format]);
    response.header('cache-control', 'no-store');
    response.header('vary', 'Accept');
    return text;
  }
}
