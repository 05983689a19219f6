import { BatchSizer } from './batch-sizer';

describe('BatchSizer: batch size and poison isolation of one phase', () => {
  it('reads full batches until a batch fails, then one event at a time up to the end of that batch', () => {
    const sizer = new BatchSizer(500);
    expect(sizer.limit).toBe(500);
    sizer.isolate(1500);
    expect([sizer.limit, sizer.isolating]).toEqual([1, true]);
    sizer.committed(1001, false);
    sizer.committed(1499, false);
    expect(sizer.limit).toBe(1);
    sizer.committed(1500, false);
    expect([sizer.limit, sizer.isolating]).toEqual([500, false]);
  });

  it('goes back to full batches as soon as the phase stops on the failing event', () => {
    const sizer = new BatchSizer(100);
    sizer.isolate(300);
    sizer.committed(250, true);
    expect(sizer.limit).toBe(100);
  });

  it("keeps each phase's search: a commit of another sizer never ends it (no endless re-apply of a failing batch)", () => {
    const live = new BatchSizer(100);
    const rebuild = new BatchSizer(100);
    rebuild.isolate(300);
    for (let to = 1000; to < 1010; to++) live.committed(to, false);
    expect(rebuild.limit).toBe(1);
    rebuild.committed(120, false);
    expect(rebuild.limit).toBe(1);
  });

  it('a batch size of 1 is never "isolating"', () => {
    const sizer = new BatchSizer(1);
    expect(sizer.isolating).toBe(false);
    sizer.isolate(5);
    sizer.committed(3, false);
    expect(sizer.limit).toBe(1);
  });
});
