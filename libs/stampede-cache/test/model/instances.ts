import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { StampedeCache } from '../../src/core/stampede-cache.service';
import {
  cacheOptions,
  runInvalidation,
  runRead,
  type FactoryStart,
  type InvalidationAnswer,
  type Key,
  type ReadAnswer,
  type ReadRequest,
  type Value,
} from './cache-calls';
import type { FaultyLink } from './faulty-link';
import type { InstanceState, ToParent, ToWorker } from './worker-protocol';

/** A message before the worker process numbers it. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The origin behind one read: called when (if) the read's factory runs. */
export type Origin = (start: FactoryStart) => Promise<Value>;

/** One cache instance under test, in this process or another, with its two links to Redis. */
export interface CacheInstance {
  readonly name: string;
  readonly links: { command: FaultyLink; subscriber: FaultyLink };
  /** Whether {@link stall} and a clock offset apply (a separate process). */
  readonly remote: boolean;
  read(request: ReadRequest, origin: Origin): Promise<ReadAnswer>;
  invalidate(key: Key): Promise<InvalidationAnswer>;
  invalidateTags(tags: string[]): Promise<InvalidationAnswer>;
  state(): Promise<InstanceState>;
  /** Blocks the instance's event loop for `ms`; resolves when it runs again. */
  stall(ms: number): Promise<void>;
  /** Resolves once its start-up (bounded, possibly degraded) is over. */
  started: Promise<void>;
  close(): Promise<void>;
}

/** An instance in the test's own process (it shares the test's event loop and clock). */
export class LocalInstance implements CacheInstance {
  readonly remote = false;
  readonly started: Promise<void>;
  private readonly cache: StampedeCache;

  constructor(
    readonly name: string,
    readonly links: { command: FaultyLink; subscriber: FaultyLink },
    namespace: string,
  ) {
    this.cache = new StampedeCache(cacheOptions(links.command.url, links.subscriber.url, namespace));
    // Not awaited by the model: a degraded start (links cut) takes up to 2 s, and the instance is used meanwhile.
    this.started = this.cache.onModuleInit();
  }

  read(request: ReadRequest, origin: Origin): Promise<ReadAnswer> {
    return runRead(this.cache, request, Date.now(), origin);
  }

  invalidate(key: Key): Promise<InvalidationAnswer> {
    return runInvalidation(() => this.cache.invalidate(key));
  }

  invalidateTags(tags: string[]): Promise<InvalidationAnswer> {
    return runInvalidation(() => this.cache.invalidateTags(tags));
  }

  state(): Promise<InstanceState> {
    return Promise.resolve({
      listening: this.cache.listening,
      circuit: this.cache.circuitState,
      pending: this.cache.usage.pendingInvalidations,
    });
  }

  stall(): Promise<void> {
    throw new Error(`${this.name} runs in the test's process: stalling it would stall the test`);
  }

  async close(): Promise<void> {
    await this.started;
    await this.cache.close();
  }
}

/**
 * A process running cache instances for the model test (model/cache-worker.ts), forked once
 * per test file; each run opens one instance in it ({@link RemoteInstance}).
 */
export class WorkerProcess {
  private readonly calls = new Map<number, (value: unknown) => void>();
  private readonly origins = new Map<number, Origin>();
  private readonly aborts = new Map<number, AbortController>();
  private nextId = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ToParent) => this.receive(message));
  }

  static async fork(): Promise<WorkerProcess> {
    const child = fork(join(__dirname, 'cache-worker.ts'), [], { execArgv: ['-r', '@swc-node/register'], stdio: 'inherit' });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`cache worker exited with ${code} before it was ready`)));
    });
    return new WorkerProcess(child);
  }

  /** Sends a call; `origin` answers the factories of a read. */
  call<T>(message: WithoutId<ToWorker>, origin?: Origin): Promise<T> {
    const id = (this.nextId += 1);
    if (origin) this.origins.set(id, origin);
    return new Promise<T>((resolve) => {
      this.calls.set(id, resolve as (value: unknown) => void);
      this.child.send({ ...message, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }

  private receive(message: ToParent): void {
    if (message.t === 'reply') {
      this.calls.get(message.id)?.(message.value);
      this.calls.delete(message.id);
      this.origins.delete(message.id);
    } else if (message.t === 'factory') {
      const origin = this.origins.get(message.read);
      const abort = new AbortController();
      this.aborts.set(message.id, abort);
      const answer = origin
        ? origin({ circuitAtRead: message.circuitAtRead, circuitAtStart: message.circuitAtStart, signal: abort.signal })
        : Promise.reject(new Error('no origin for this read'));
      answer.then(
        (value) => this.child.send({ t: 'factory-result', id: message.id, value }),
        (error: Error) => this.child.send({ t: 'factory-result', id: message.id, error: error.message }),
      );
      void answer.finally(() => this.aborts.delete(message.id)).catch(() => undefined);
    } else if (message.t === 'aborted') {
      this.aborts.get(message.id)?.abort();
    }
  }
}

/** An instance in a {@link WorkerProcess}: its event loop can be stalled and its wall clock is offset. */
export class RemoteInstance implements CacheInstance {
  readonly remote = true;
  readonly started: Promise<void>;

  constructor(
    readonly name: string,
    readonly links: { command: FaultyLink; subscriber: FaultyLink },
    namespace: string,
    private readonly worker: WorkerProcess,
    clockOffsetMs: number,
  ) {
    this.started = worker
      .call({ t: 'open', command: links.command.url, subscriber: links.subscriber.url, namespace, clockOffsetMs })
      .then(() => undefined);
  }

  read(request: ReadRequest, origin: Origin): Promise<ReadAnswer> {
    return this.worker.call({ t: 'read', request }, origin);
  }

  invalidate(key: Key): Promise<InvalidationAnswer> {
    return this.worker.call({ t: 'invalidate', key });
  }

  invalidateTags(tags: string[]): Promise<InvalidationAnswer> {
    return this.worker.call({ t: 'invalidate', tags });
  }

  state(): Promise<InstanceState> {
    return this.worker.call({ t: 'state' });
  }

  stall(ms: number): Promise<void> {
    return this.worker.call({ t: 'stall', ms });
  }

  async close(): Promise<void> {
    await this.worker.call({ t: 'close' });
  }
}
