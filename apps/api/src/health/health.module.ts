import { Module } from '@nestjs/common';
import { IntegrationModule } from '../integration/integration.module';
import { HealthController } from './health.controller';

/** Liveness and readiness. Needs the event store and AppRedis (global), and the relay for its state. */
@Module({ imports: [IntegrationModule], controllers: [HealthController] })
export class HealthModule {}
