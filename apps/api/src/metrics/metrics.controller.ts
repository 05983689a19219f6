import { Controller, Get, Inject, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Registry } from 'prom-client';
import type { HttpReply } from '../common/http-message';
import { MetricsAccessGuard } from '../common/operational-access';
import { METRICS_REGISTRY } from './metrics.registry';

/** Prometheus exposition of this instance's metrics (HTTP, cache, projection lag, process). METRICS_ACCESS decides who may read it. */
@ApiTags('metrics')
@UseGuards(MetricsAccessGuard)
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  async metrics(@Res({ passthrough: true }) res: HttpReply): Promise<string> {
    res.type(this.registry.contentType);
    return this.registry.metrics();
  }
}
