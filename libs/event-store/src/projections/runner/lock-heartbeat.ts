import type { Clock } from '../clock';

export interface HeartbeatOptions {
  clock: Clock;
  /** The bound: the server ends the session after this long without a statement; a ping unanswered this long means the link is dead. */
  boundMs: number;
  /** Sends one cheap statement on the connection. */
  ping(): Promise<unknown>;
  /** True while a statement is in flight (the session is not idle then). */
  busy(): boolean;
  /** When the last statement started or finished. */
  lastActivity(): number;
  /** Called once when a ping got no answer within the bound. */
  onDead(): void;
}

/**
 * Keeps a lock connection from looking idle to the server while its holder is
 * alive: `idle_session_timeout` ends a session idle for the bound, so a live
 * holder pings at a quarter of it. A frozen holder stops pinging and the
 * server ends its session (and its advisory lock) within the bound.
 */
export class LockHeartbeat {
  private cancel?: () => void;
  private stopped = true;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Time between checks; also the longest idle gap a healthy holder leaves. */
  get intervalMs(): number {
    return Math.max(100, Math.floor(this.o.boundMs / 4));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.o.clock.setTimeout(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (!this.o.busy() && this.o.clock.now() - this.o.lastActivity() >= this.intervalMs) {
      let answered = false;
      const cancelDeadline = this.o.clock.setTimeout(() => {
        if (answered || this.stopped) return;
        this.stop();
        this.o.onDead();
      }, this.o.boundMs);
      // A failed ping surfaces through the runner's own next statement; only silence is judged here.
      await this.o.ping().catch(() => undefined);
      answered = true;
      cancelDeadline();
    }
    this.schedule();
  }
}
