import { Logger } from '@nestjs/common';
import Redis, { type Cluster } from 'ioredis';

/** The clients the cache talks through, and which of them it must close. */
export interface RedisConnections {
  /** Commands and PUBLISH. */
  client: Redis | Cluster;
  /** SUBSCRIBE only (a subscribed connection cannot run other commands). */
  subscriber: Redis | Cluster;
  /** Connections this library created; user-supplied clients are never closed by it. */
  owned: Array<Redis | Cluster>;
}

/** Reconnect quickly at first, then every 2 s at most, forever: Redis may come back. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 2_000);

function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * Opens (or derives) the connections for a `redis` option. Connections created from a
 * URL fail fast while disconnected (no offline queue, one retry) so a Redis outage costs a
 * read one quick error, which the circuit breaker then absorbs. Their ioredis
 * `commandTimeout` is only a backstop far above the cache's own bound (`RedisGuard`), which,
 * unlike ioredis, can tell a stall of this process from Redis's silence.
 */
export function openRedisConnections(
  redis: string | Redis | Cluster,
  commandTimeoutMs: number,
  logger: Logger,
  subscriberUrl?: string,
): RedisConnections {
  if (typeof redis === 'string') {
    const client = new Redis(redis, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      retryStrategy,
      connectionName: 'stampede-cache',
    });
    // The subscriber keeps its offline queue so SUBSCRIBE issued before connect is sent on connect.
    const subscriber = new Redis(subscriberUrl ?? redis, {
      retryStrategy,
      maxRetriesPerRequest: null,
      connectionName: 'stampede-cache-sub',
    });
    for (const connection of [client, subscriber]) quietErrors(connection, logger);
    return { client, subscriber, owned: [client, subscriber] };
  }
  // A Cluster subscribes with sharded pub/sub (one node orders every message), which needs sharded subscribers.
  const subscriber = isCluster(redis)
    ? redis.duplicate([], { shardedSubscribers: true })
    : redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  quietErrors(subscriber, logger);
  return { client: redis, subscriber, owned: [subscriber] };
}

/** Resolves when the client is ready or after `timeoutMs`: start-up must not fail because Redis is down. */
export async function waitUntilReady(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

/** Closes connections gracefully, falling back to a hard disconnect when Redis is unreachable. */
export async function closeConnections(connections: Array<Redis | Cluster>): Promise<void> {
  await Promise.all(
    connections.map(async (connection) => {
      if (connection.status === 'end') return;
      try {
        if (connection.status !== 'ready') throw new Error('not connected');
        await Promise.race([connection.quit(), new Promise((_, reject) => setTimeout(reject, 1_000).unref())]);
      } catch {
        connection.disconnect();
      }
    }),
  );
}

/** Without a listener ioredis prints every reconnect error; log one line per outage instead. */
function quietErrors(connection: Redis | Cluster, logger: Logger): void {
  let reported = false;
  connection.on('error', (error: Error) => {
    if (!reported) logger.warn(`Redis connection error (reconnecting in the background): ${error.message}`);
    reported = true;
  });
  connection.on('ready', () => {
    reported = false;
  });
}
