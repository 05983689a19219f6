/**
 * The child-process side of {@link RemoteInstance}: one cache instance in its own process,
 * so that the model test can stall its event loop (a busy loop) and give it a wall clock
 * that differs from the others'. It talks to the test over IPC only: the test sends calls,
 * and every factory asks the test (which owns the origin) for its value.
 */
import { Logger } from '@nestjs/common';
import { StampedeCache } from '../../src/core/stampede-cache.service';
import { cacheOptions, offsetClock, runInvalidation, runRead, type Value } from './cache-calls';
import type { ToParent, ToWorker } from './worker-protocol';

let cache: StampedeCache | undefined;
let now = () => Date.now();
const factories = new Map<number, { resolve: (value: Value) => void; reject: (error: Error) => void }>();
let nextFactory = 0;

Logger.overrideLogger(false); // the test asserts on outcomes; reconnect warnings are expected noise

const send = (message: ToParent): void => void process.send!(message);

async function handle(message: ToWorker): Promise<void> {
  switch (message.t) {
    case 'open': {
      const clock = offsetClock(message.clockOffsetMs);
      now = () => clock.now();
      cache = new StampedeCache(cacheOptions(message.command, message.subscriber, message.namespace, clock));
      // Not awaited: a degraded start (links cut) takes up to 2 s, and the model uses the instance meanwhile.
      void cache.onModuleInit();
      return send({ t: 'reply', id: message.id, value: true });
    }
    case 'read': {
      const answer = await runRead(cache!, message.request, now(), ({ circuitAtRead, circuitAtStart, signal }) => {
        const id = (nextFactory += 1);
        signal.addEventListener('abort', () => send({ t: 'aborted', id }));
        send({ t: 'factory', id, read: message.id, circuitAtRead, circuitAtStart });
        return new Promise<Value>((resolve, reject) => factories.set(id, { resolve, reject }));
      });
      return send({ t: 'reply', id: message.id, value: answer });
    }
    case 'factory-result': {
      const factory = factories.get(message.id);
      factories.delete(message.id);
      if (message.value) factory?.resolve(message.value);
      else factory?.reject(new Error(message.error ?? 'origin failed'));
      return;
    }
    case 'invalidate': {
      const answer = await runInvalidation(() =>
        message.key !== undefined ? cache!.invalidate(message.key) : cache!.invalidateTags(message.tags ?? []),
      );
      return send({ t: 'reply', id: message.id, value: answer });
    }
    case 'state':
      return send({
        t: 'reply',
        id: message.id,
        value: { listening: cache!.listening, circuit: cache!.circuitState, pending: cache!.usage.pendingInvalidations },
      });
    case 'stall': {
      // What a burst of requests, a GC pause or synchronous app work does to this process: nothing else runs.
      const until = performance.now() + message.ms;
      while (performance.now() < until) {
        // busy
      }
      return send({ t: 'reply', id: message.id, value: true });
    }
    case 'close':
      await cache?.close();
      cache = undefined;
      for (const factory of factories.values()) factory.reject(new Error('closed'));
      factories.clear();
      return send({ t: 'reply', id: message.id, value: true });
  }
}

process.on('message', (message: ToWorker) => void handle(message));
process.once('disconnect', () => process.exit(0)); // the test ended or died: do not outlive it
send({ t: 'ready' });
