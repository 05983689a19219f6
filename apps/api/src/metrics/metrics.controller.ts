import { Controller, Get, Inject, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Registry } from 'prom-client';
import { MetricsAccessGuard } from '../common/operational-access';
import { METRICS_REGISTRY } from './metrics.registry';

/** Prometheus exposition of this instance's metrics (HTTP, cache, projection lag, process). METRICS_ACCESS decides who may read it. */
@ApiTags('metrics')
@UseGuards(MetricsAccessGuard)
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  async metrics(@Res() res: Response): Promise<void> {
    res
      .status(200)
      .type(this.registry.contentType)
      .send(await this.registry.metrics());
  }
}
