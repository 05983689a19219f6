import { Injectable } from '@nestjs/common';
import {
  AggregateRepository,
  type AppendResult,
  type EventMetadata,
  type EventSourcedAggregate,
  type TransactionHook,
  type UpdateOptions,
} from '@app/event-store';
import { RequestOutcome, type CommandAppend } from '../idempotency/request-outcome';

/** Options of {@link CommandRepository.save}. */
export interface CommandSaveOptions {
  /**
   * The command's own rows that must commit or roll back with its events (an email's
   * reservation, a data key's deletion): domain writes, not the request's. Throwing
   * refuses the whole write.
   */
  commitWith?: TransactionHook;
}

/** Options of {@link CommandRepository.update}: the library's, with the command's own rows as `commitWith`. */
export type CommandUpdateOptions = Omit<UpdateOptions, 'within'> & CommandSaveOptions;

/**
 * The one write seam of command handlers: `AggregateRepository`'s `save` and `update`, with
 * the request's outcome (the idempotency record, see `RequestOutcome`) added to the append's
 * transaction here rather than by each handler, so no handler can forget it or store an
 * outcome its events do not share. Handlers inject this, never `AggregateRepository`
 * (`write-seam.spec.ts` fails otherwise). It answers the append with its stream id, so a
 * command's result and the route's stored response derive from one value.
 */
@Injectable()
export class CommandRepository {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly outcome: RequestOutcome,
  ) {}

  /** Appends the aggregate's new events (expecting its loaded version) with `commitWith`'s rows and the request's outcome. */
  async save(aggregate: EventSourcedAggregate, metadata?: EventMetadata, options: CommandSaveOptions = {}): Promise<CommandAppend> {
    const streamId = aggregate.streamId;
    const appended = await this.aggregates.save(aggregate, metadata, { within: this.within(streamId, options.commitWith) });
    return this.committed(streamId, appended);
  }

  /** Load, change, save with bounded conflict retries (see `AggregateRepository.update`); null when the stream does not exist. */
  async update<A extends EventSourcedAggregate>(
    create: () => A,
    streamId: string,
    change: (aggregate: A) => void,
    options: CommandUpdateOptions = {},
  ): Promise<{ aggregate: A; result: CommandAppend } | null> {
    const { commitWith, ...libraryOptions } = options;
    const saved = await this.aggregates.update(create, streamId, change, { ...libraryOptions, within: this.within(streamId, commitWith) });
    return saved && { aggregate: saved.aggregate, result: this.committed(streamId, saved.result) };
  }

  /** The command's rows first (they may refuse the write), then the request's outcome: the last writes before COMMIT. */
  private within(streamId: string, own: TransactionHook | undefined): TransactionHook | undefined {
    const outcome = this.outcome.hookForAppend();
    if (!outcome) return own;
    return async (q, appended) => {
      await own?.(q, appended);
      await outcome(q, { ...appended, streamId });
    };
  }

  private committed(streamId: string, appended: AppendResult): CommandAppend {
    this.outcome.appendCommitted();
    return { ...appended, streamId };
  }
}
