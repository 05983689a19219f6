import { AggregateRoot } from '@nestjs/cqrs';

/**
 * Base for aggregates whose state is rebuilt from their stream. Extends the
 * `@nestjs/cqrs` AggregateRoot, so state changes go through `apply(event)`
 * and `on<EventClassName>(event)` handlers; the store adds the stream id and
 * the version the aggregate was loaded at (its expected version on save).
 */
export abstract class EventSourcedAggregate extends AggregateRoot {
  /** Stream version this instance reflects: 0 for a new aggregate. */
  version = 0;

  /** The stream this aggregate is stored in. */
  abstract get streamId(): string;
}
