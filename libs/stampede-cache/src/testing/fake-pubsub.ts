import { EventEmitter } from 'node:events';

/**
 * An in-memory stand-in for Redis pub/sub with its one guarantee: every subscriber gets
 * a channel's messages in publish order. The test can pause a connection (its messages
 * queue up, like a stalled socket) and resume it.
 */
export class FakeBroker {
  private readonly subscribers = new Set<FakeConnection>();

  connection(): FakeConnection {
    return new FakeConnection(this);
  }

  /** Delivered on the next turn of the event loop, in order. */
  publish(channel: string, message: string): number {
    for (const subscriber of this.subscribers) subscriber.deliver(channel, message);
    return this.subscribers.size;
  }

  subscribe(connection: FakeConnection): void {
    this.subscribers.add(connection);
  }

  unsubscribe(connection: FakeConnection): void {
    this.subscribers.delete(connection);
  }
}

export class FakeConnection extends EventEmitter {
  status = 'ready';
  /** Set to stand for a Cluster connection: sharded pub/sub (`spublish`, `ssubscribe`, `smessage`). */
  isCluster = false;
  /** While set, messages for this connection are lost (a subscriber that reconnected unseen). */
  dropping = false;
  private paused = false;
  private queue: Array<[string, string]> = [];

  constructor(private readonly broker: FakeBroker) {
    super();
  }

  subscribe(_channel: string): Promise<void> {
    this.broker.subscribe(this);
    return Promise.resolve();
  }

  ssubscribe(channel: string): Promise<void> {
    return this.subscribe(channel);
  }

  spublish(channel: string, message: string): Promise<number> {
    return this.publish(channel, message);
  }

  async publish(channel: string, message: string): Promise<number> {
    if (this.paused) return new Promise(() => undefined); // a stalled socket never answers
    return this.broker.publish(channel, message);
  }

  deliver(channel: string, message: string): void {
    if (this.dropping) return;
    this.queue.push([channel, message]);
    if (!this.paused) setImmediate(() => this.flush());
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    while (!this.paused && this.queue.length) {
      const [channel, message] = this.queue.shift()!;
      this.emit(this.isCluster ? 'smessage' : 'message', channel, message);
    }
  }
}
