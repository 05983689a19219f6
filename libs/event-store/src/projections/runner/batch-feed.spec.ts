import { BatchFeed, FedBatch } from './batch-feed';

/** A reader whose reads the test resolves by hand, so the overlap is observable, not timed. */
class ManualReader {
  readonly calls: Array<{ from: number; limit: number; resolve: (b: FedBatch) => void; reject: (e: Error) => void }> = [];
  read = (from: number, limit: number) => new Promise<FedBatch>((resolve, reject) => this.calls.push({ from, limit, resolve, reject }));
  answer(i: number, count: number, full: boolean): void {
    const { from, limit, resolve } = this.calls[i];
    const n = full ? limit : count;
    resolve({ from, to: from + n - 1 + (full ? 0 : 5), full, events: [] });
  }
}

describe('BatchFeed: one batch read ahead', () => {
  it('starts reading the next batch as soon as a full one is handed out, before it is applied', async () => {
    const reader = new ManualReader();
    const feed = new BatchFeed(reader.read);
    const first = feed.take(1, 100);
    reader.answer(0, 100, true);
    expect((await first).to).toBe(100);
    expect(reader.calls.map((c) => [c.from, c.limit])).toEqual([
      [1, 100],
      [101, 100],
    ]);
    reader.answer(1, 100, true);
    const second = await feed.take(101, 100);
    expect(second.to).toBe(200);
    expect(reader.calls).toHaveLength(3);
  });

  it('does not read ahead after a batch that was not full (the phase has caught up)', async () => {
    const reader = new ManualReader();
    const feed = new BatchFeed(reader.read);
    const batch = feed.take(1, 100);
    reader.answer(0, 3, false);
    await batch;
    expect(reader.calls).toHaveLength(1);
  });

  it('discards the read-ahead when asked for another start or size, or after reset()', async () => {
    const reader = new ManualReader();
    const feed = new BatchFeed(reader.read);
    const first = feed.take(1, 100);
    reader.answer(0, 100, true);
    await first;
    const isolated = feed.take(101, 1);
    expect(reader.calls[2]).toMatchObject({ from: 101, limit: 1 });
    reader.answer(2, 1, true);
    await isolated;
    feed.reset();
    const again = feed.take(102, 1);
    expect(reader.calls[4]).toMatchObject({ from: 102, limit: 1 });
    reader.answer(4, 1, false);
    await again;
  });

  it('a failed read-ahead surfaces only if taken; a discarded one is dropped quietly', async () => {
    const reader = new ManualReader();
    const feed = new BatchFeed(reader.read);
    const first = feed.take(1, 10);
    reader.answer(0, 10, true);
    await first;
    reader.calls[1].reject(new Error('connection lost'));
    await expect(feed.take(11, 10)).rejects.toThrow('connection lost');
    const next = feed.take(11, 10);
    reader.answer(2, 10, true);
    await next;
    reader.calls[3].reject(new Error('discarded'));
    feed.reset();
    await new Promise((r) => setImmediate(r));
  });
});
