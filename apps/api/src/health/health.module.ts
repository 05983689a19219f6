import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';

/** Liveness and readiness. Needs the event store and AppRedis (global). */
@Module({ controllers: [HealthController] })
export class HealthModule {}
