import { systemClock } from '../clock';
import { lockSessionSettings } from './lock-connection';
import { LockHeartbeat } from './lock-heartbeat';

const BOUND = 4000;

describe('LockHeartbeat (fake timers)', () => {
  let pings: number[];
  let lastActivity: number;
  let inFlight: boolean;
  let answer: () => Promise<unknown>;
  let dead: number;
  let heartbeat: LockHeartbeat;
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    pings = [];
    lastActivity = 0;
    inFlight = false;
    dead = 0;
    answer = async () => undefined;
    heartbeat = new LockHeartbeat({
      clock: systemClock,
      boundMs: BOUND,
      ping: () => {
        pings.push(Date.now());
        lastActivity = Date.now();
        return answer();
      },
      busy: () => inFlight,
      lastActivity: () => lastActivity,
      onDead: () => dead++,
    });
  });
  afterEach(() => {
    heartbeat.stop();
    jest.useRealTimers();
  });

  it('pings an idle connection every quarter of the bound, so a live holder is never idle as long as the bound', async () => {
    heartbeat.start();
    await advance(BOUND * 2);
    expect(pings).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
    expect(Math.max(...pings.map((t, i) => t - (pings[i - 1] ?? 0)))).toBeLessThan(BOUND);
  });

  it('stays quiet while the runner itself talks to the server', async () => {
    heartbeat.start();
    const talk = setInterval(() => (lastActivity = Date.now()), 500);
    await advance(BOUND * 2);
    clearInterval(talk);
    expect(pings).toEqual([]);
    inFlight = true;
    await advance(BOUND * 2);
    expect(pings).toEqual([]);
  });

  it('declares the link dead when a ping gets no answer within the bound, and stops pinging', async () => {
    answer = () => new Promise(() => undefined);
    heartbeat.start();
    await advance(1000 + BOUND - 1);
    expect(dead).toBe(0);
    await advance(1);
    expect(dead).toBe(1);
    await advance(BOUND * 2);
    expect([dead, pings.length]).toEqual([1, 1]);
  });

  it('a failed ping is not judged here (the runner sees the failure on its next statement)', async () => {
    answer = async () => Promise.reject(new Error('Connection terminated'));
    heartbeat.start();
    await advance(BOUND * 2);
    expect(dead).toBe(0);
    expect(pings.length).toBeGreaterThan(1);
  });
});

describe('lockSessionSettings', () => {
  it('derives every server-side timeout from the bound', () => {
    expect(lockSessionSettings(10_000)).toEqual({
      idle_session_timeout: '10000',
      idle_in_transaction_session_timeout: '10000',
      tcp_user_timeout: '10000',
      tcp_keepalives_idle: '5',
      tcp_keepalives_interval: '1',
      tcp_keepalives_count: '3',
    });
  });

  it('keeps keepalive probes within the bound and never at 0 (which means "system default")', () => {
    for (const bound of [1000, 2500, 10_000, 60_000, 600_000]) {
      const s = lockSessionSettings(bound);
      const probeSeconds = Number(s.tcp_keepalives_idle) + Number(s.tcp_keepalives_interval) * Number(s.tcp_keepalives_count);
      expect(Number(s.tcp_keepalives_interval)).toBeGreaterThanOrEqual(1);
      expect(probeSeconds * 1000).toBeLessThanOrEqual(Math.max(bound, 4000));
    }
  });
});
