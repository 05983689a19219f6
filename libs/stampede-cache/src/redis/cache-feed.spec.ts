import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { FakeBroker } from '../testing/fake-pubsub';
import { ManualClock, settle } from '../testing/manual-clock';
import { CacheFeed } from './cache-feed';
import type { FeedMessage } from './feed-messages';

const WINDOW = 3_000;

/** Trust and acknowledgements of the invalidation feed, on an in-memory pub/sub and a clock the test moves. */
describe('CacheFeed', () => {
  let clock: ManualClock;
  let broker: FakeBroker;
  const feeds: CacheFeed[] = [];

  const instance = async (name: string, cluster = false) => {
    const publisher = broker.connection();
    const subscriber = broker.connection();
    publisher.isCluster = subscriber.isCluster = cluster;
    const heard: FeedMessage[] = [];
    let gaps = 0;
    const feed = new CacheFeed(
      publisher as unknown as Redis,
      subscriber as unknown as Redis,
      'ns:events',
      name,
      clock,
      WINDOW,
      {
        onMessage: (message) => heard.push(message),
        onGap: () => (gaps += 1),
      },
      new Logger('test'),
    );
    await feed.start(1_000);
    feeds.push(feed);
    return { feed, publisher, subscriber: subscriber, heard, gaps: () => gaps };
  };

  beforeEach(() => {
    clock = new ManualClock();
    broker = new FakeBroker();
  });
  afterEach(() => feeds.splice(0).forEach((feed) => feed.stop()));

  it('trusts its L1 only while it hears its own heartbeats, and stops within the trust window after a stall', async () => {
    const a = await instance('a');
    expect(a.feed.trusted()).toBe(false); // nothing heard yet
    await settle();
    expect(a.feed.trusted()).toBe(true);
    await clock.advance(WINDOW * 2); // heartbeats every WINDOW/3 keep it trusted
    expect(a.feed.trusted()).toBe(true);
    a.subscriber.pause(); // the subscription stalls: nothing more is heard
    const stalledAt = clock.now();
    while (a.feed.trusted()) await clock.advance(10);
    expect(clock.now() - stalledAt).toBeLessThanOrEqual(WINDOW);
    a.subscriber.resume();
    await settle();
    expect(a.feed.trusted()).toBe(true);
  });

  it('resolves an invalidation once every instance heard within the window has applied it', async () => {
    const [a, b, c] = [await instance('a'), await instance('b'), await instance('c')];
    await clock.advance(WINDOW); // everyone has heard everyone's heartbeat
    const acks = a.feed.expectAcks('m1');
    await a.feed.publish({ k: 'tags', versions: { t: 2 }, msg: 'm1' });
    acks.published();
    await settle();
    await expect(acks.promise).resolves.toBe(true);
    expect(b.heard.some((m) => m.k === 'tags')).toBe(true);
    expect(c.heard.some((m) => m.k === 'tags')).toBe(true);
  });

  it('waits at most the trust window for an instance that does not answer, by when that instance no longer trusts its L1', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    await clock.advance(WINDOW);
    b.subscriber.pause(); // b stops hearing: it cannot apply (or acknowledge) the invalidation
    const acks = a.feed.expectAcks('m2');
    await a.feed.publish({ k: 'deleted', id: 'k', fence: 9, msg: 'm2' });
    acks.published();
    let resolved: boolean | undefined;
    void acks.promise.then((all) => (resolved = all));
    await clock.advance(WINDOW - 1);
    expect(resolved).toBeUndefined();
    await clock.advance(WINDOW / 100 + 6);
    expect(resolved).toBe(false);
    expect(b.feed.trusted()).toBe(false); // the bound is what makes returning safe
  });

  it('does not wait for an instance not heard within the window', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    await clock.advance(WINDOW);
    b.feed.stop();
    b.subscriber.pause();
    await clock.advance(WINDOW + 1); // b's last heartbeat is older than the window
    const acks = a.feed.expectAcks('m3');
    await a.feed.publish({ k: 'tags', versions: { t: 3 }, msg: 'm3' });
    acks.published();
    await settle();
    await expect(acks.promise).resolves.toBe(true);
  });

  it('waits for the whole window while it has not been listening for a window itself (it may have missed heartbeats)', async () => {
    const b = await instance('b');
    await clock.advance(WINDOW / 2);
    const a = await instance('a'); // started after b's last heartbeat: a does not know b yet
    const acks = a.feed.expectAcks('m4');
    await a.feed.publish({ k: 'tags', versions: { t: 4 }, msg: 'm4' });
    acks.published();
    let resolved: boolean | undefined;
    void acks.promise.then((all) => (resolved = all));
    await settle();
    expect(resolved).toBeUndefined();
    expect(b.heard.some((m) => m.k === 'tags')).toBe(true);
    await clock.advance(WINDOW + WINDOW / 100 + 5);
    expect(resolved).toBe(false);
  });

  it('reports a gap when the subscription drops or comes back, and trusts again only after hearing itself anew', async () => {
    const a = await instance('a');
    await settle();
    expect(a.feed.trusted()).toBe(true);
    const before = a.gaps();
    a.subscriber.emit('close');
    expect(a.gaps()).toBe(before + 1);
    expect(a.feed.trusted()).toBe(false);
    a.subscriber.emit('ready'); // ioredis says ready before it has re-subscribed
    expect(a.gaps()).toBe(before + 2);
    await clock.advance(WINDOW / 3);
    expect(a.feed.trusted()).toBe(true);
    // Hearing itself again confirms the subscription: what L1 took before that is dropped once more.
    expect(a.gaps()).toBe(before + 3);
  });

  it('treats a lost heartbeat as a gap although no connection event was seen (a subscriber that reconnected unseen)', async () => {
    const a = await instance('a');
    await settle();
    const before = a.gaps();
    a.subscriber.dropping = true;
    await clock.advance(WINDOW / 3); // this heartbeat, and whatever was published with it, is lost
    a.subscriber.dropping = false;
    expect(a.gaps()).toBe(before);
    await clock.advance(WINDOW / 3);
    expect(a.gaps()).toBe(before + 1);
    expect(a.feed.trusted()).toBe(true);
  });

  it("on a Cluster, treats the sharded subscribers' reconnect events as gaps", async () => {
    const a = await instance('a', true);
    await settle();
    expect(a.feed.trusted()).toBe(true);
    for (const event of ['-subscriber', '+subscriber', 'subscribersReady', 'nodeError']) {
      const before = a.gaps();
      a.subscriber.emit(event);
      expect(a.gaps()).toBe(before + 1);
      expect(a.feed.trusted()).toBe(false);
      await clock.advance(WINDOW / 3);
      expect(a.feed.trusted()).toBe(true);
    }
  });

  it('treats the first heartbeat heard after start as a gap: nothing cached before the subscription was confirmed is kept', async () => {
    const a = await instance('a');
    await settle();
    expect(a.feed.trusted()).toBe(true);
    expect(a.gaps()).toBeGreaterThanOrEqual(1);
  });
});
