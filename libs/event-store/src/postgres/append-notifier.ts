/**
 * Tells listeners (projection runners, on any instance) that appends
 * committed, *after* the commit and outside the appending transaction.
 *
 * A NOTIFY inside the appending transaction makes COMMIT take a
 * database-wide lock that serialises every notifying commit with its WAL
 * flush; measured, that halved append throughput. Here at most one
 * notification is in flight per store; appends that commit meanwhile are
 * folded into the next one (the payload is the highest position). A lost
 * notification (crash between commit and notify) only delays listeners until
 * their next poll.
 */
export class AppendNotifier {
  private pending = 0;
  private flushing?: Promise<void>;
  private closed = false;

  constructor(private readonly send: (position: number) => Promise<unknown>) {}

  /** Records a committed append; never throws, never waits. */
  appended(position: number): void {
    if (this.closed || !(position > 0)) return;
    this.pending = Math.max(this.pending, position);
    this.flushing ??= this.flush();
  }

  /** Stops notifying and waits for a notification in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending > 0 && !this.closed) {
        const position = this.pending;
        this.pending = 0;
        // A failed NOTIFY (database briefly away) must not fail the append that already committed.
        await this.send(position).catch(() => undefined);
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
