import { BatchTooLargeError, MAX_EVENTS_PER_BATCH, MAX_STREAMS_PER_BATCH } from '@app/event-store';
import { toProblem } from './to-problem';

describe('toProblem for event-store errors', () => {
  it('answers a batch over the stream-lock bound with 413 and its code, naming the bound', () => {
    const problem = toProblem(
      new BatchTooLargeError({ streams: MAX_STREAMS_PER_BATCH, events: MAX_EVENTS_PER_BATCH }, { streams: MAX_STREAMS_PER_BATCH + 1 }),
    );
    expect(problem).toMatchObject({ status: 413, code: 'EVENT_STORE.BATCH_TOO_LARGE' });
    expect(problem.detail).toContain(`at most ${MAX_STREAMS_PER_BATCH} streams`);
  });
});
