import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AggregateRepository, AppendResult, EventSourcedAggregate, Queryable, TransactionHook } from '@app/event-store';
import { CommandRepository } from './command-repository';
import { RequestOutcome, type CommandAppend } from '../idempotency/request-outcome';

const SRC = join(__dirname, '..');

/** Every command handler of the app: `<feature>/commands/<use-case>/*.handler.ts`. */
function commandHandlers(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return commandHandlers(path);
    return /[\\/]commands[\\/].+\.handler\.ts$/.test(path) ? [path] : [];
  });
}

/** A fake of the library's repository: runs `within` as the real one does, after the append and before "COMMIT". */
function fakeAggregates(appended: AppendResult, q = {} as Queryable) {
  const calls: Array<{ op: 'save' | 'update'; streamId: string; options: Record<string, unknown> }> = [];
  const runWithin = async (within: TransactionHook | undefined) => within?.(q, appended);
  const aggregates = {
    async save(aggregate: { streamId: string }, _metadata: unknown, options: { within?: TransactionHook }) {
      calls.push({ op: 'save', streamId: aggregate.streamId, options });
      await runWithin(options.within);
      return appended;
    },
    async update(create: () => unknown, streamId: string, change: (a: unknown) => void, options: { within?: TransactionHook }) {
      calls.push({ op: 'update', streamId, options });
      const aggregate = create();
      change(aggregate);
      await runWithin(options.within);
      return { aggregate, result: appended };
    },
  };
  return { aggregates: aggregates as unknown as AggregateRepository, calls, q };
}

const appended: AppendResult = { streamVersion: 4, position: 42, written: true };
const aggregate = { streamId: 'user-1' } as never;

describe('the write seam (CommandRepository + RequestOutcome)', () => {
  it('no command handler can save around it: none reaches the library repository, the store or a transaction', () => {
    const handlers = commandHandlers();
    expect(handlers.length).toBeGreaterThanOrEqual(4);
    const offenders = handlers.filter((file) =>
      /AggregateRepository|EventStore\b|\.store\.|append(To|Within)|inTransaction|\bwithin\b|RequestOutcome|[Tt]ransaction/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(offenders.map((file) => relative(SRC, file))).toEqual([]);
  });

  it('outside a request outcome, appends with the command rows alone and answers the stream id with the append', async () => {
    const { aggregates, calls, q } = fakeAggregates(appended);
    const own = jest.fn(async () => {});
    const result = await new CommandRepository(aggregates, new RequestOutcome()).save(aggregate, undefined, { commitWith: own });
    expect(result).toEqual({ ...appended, streamId: 'user-1' });
    expect(calls[0].options.within).toBe(own);
    expect(own).toHaveBeenCalledWith(q, appended);
  });

  it('commits the command rows, then the outcome with the append, and tells the request that an append committed', async () => {
    const { aggregates } = fakeAggregates(appended);
    const outcome = new RequestOutcome();
    const order: string[] = [];
    const seen: CommandAppend[] = [];
    const run = await outcome.run(
      async (_q, append) => {
        order.push('outcome');
        seen.push(append);
      },
      () => new CommandRepository(aggregates, outcome).save(aggregate, undefined, { commitWith: async () => void order.push('own') }),
    );
    expect(order).toEqual(['own', 'outcome']);
    expect(seen).toEqual([{ ...appended, streamId: 'user-1' }]);
    expect(run).toEqual({ value: { ...appended, streamId: 'user-1' }, appended: true });
  });

  it('update passes the library options through and carries the outcome without command rows', async () => {
    const { aggregates, calls } = fakeAggregates(appended);
    const outcome = new RequestOutcome();
    const hook = jest.fn(async () => {});
    const run = await outcome.run(hook, () =>
      new CommandRepository(aggregates, outcome).update(
        () => ({ changed: false }) as unknown as EventSourcedAggregate & { changed: boolean },
        'user-2',
        (a) => {
          a.changed = true;
        },
        { expectedVersion: 3, metadata: { correlationId: 'c' } },
      ),
    );
    expect(calls[0].options).toMatchObject({ expectedVersion: 3, metadata: { correlationId: 'c' } });
    expect(calls[0].options).not.toHaveProperty('commitWith');
    expect(hook).toHaveBeenCalledWith(expect.anything(), { ...appended, streamId: 'user-2' });
    expect(run.value).toEqual({ aggregate: { changed: true }, result: { ...appended, streamId: 'user-2' } });
  });

  it('records no outcome when the command rows refuse the write', async () => {
    const { aggregates } = fakeAggregates(appended);
    const outcome = new RequestOutcome();
    const hook = jest.fn(async () => {});
    const refused = outcome.run(hook, () =>
      new CommandRepository(aggregates, outcome).save(aggregate, undefined, {
        commitWith: async () => {
          throw new Error('email taken');
        },
      }),
    );
    await expect(refused).rejects.toThrow('email taken');
    expect(hook).not.toHaveBeenCalled();
  });

  it('refuses a second append in one request before it appends: the outcome already rode on the first', async () => {
    const { aggregates, calls } = fakeAggregates(appended);
    const outcome = new RequestOutcome();
    const repository = new CommandRepository(aggregates, outcome);
    const twice = outcome.run(
      async () => {},
      async () => {
        await repository.save(aggregate);
        await repository.save(aggregate);
      },
    );
    await expect(twice).rejects.toThrow(/appends once per request/);
    expect(calls).toHaveLength(1);
  });

  it('says nothing was appended when the command appended nothing', async () => {
    const run = await new RequestOutcome().run(
      async () => {},
      async () => 'no-op',
    );
    expect(run).toEqual({ value: 'no-op', appended: false });
  });
});
