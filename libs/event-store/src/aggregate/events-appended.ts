import type { AppendResult } from '../types';

/**
 * Published on the `@nestjs/cqrs` EventBus after the repository saved an
 * aggregate, so other parts of the app (cache invalidation, notifications)
 * can react without knowing each event class.
 */
export class EventsAppended {
  constructor(
    readonly streamId: string,
    readonly events: readonly object[],
    readonly result: AppendResult,
  ) {}
}
