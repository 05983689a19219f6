import { Module } from '@nestjs/common';
import { IntegrationRelay } from './integration-relay';
import { RelayController } from './relay.controller';

/**
 * Integration events: the outbox relay from the log to NATS JetStream (on with NATS_URL), its
 * contracts and admin endpoints (its metrics are `RelayMetrics`, in the app module beside the registry).
 * Needs the event store and AppConfig (global).
 */
@Module({ controllers: [RelayController], providers: [IntegrationRelay], exports: [IntegrationRelay] })
export class IntegrationModule {}
