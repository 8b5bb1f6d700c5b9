/**
 * The server's time as seen from the page: the local clock plus an offset
 * learnt from `pong` round trips. Grid windows and tick ages are judged on it,
 * so a player whose clock is off still sees the now line where the server has it.
 *
 * ```ts
 * const clock: ServerClock = createServerClock();
 * ```
 */
export interface ServerClock {
  now(): number;
  /** Feeds one round trip: sent and received on the local clock, `serverTs` from the pong. */
  observe(sentAt: number, serverTs: number, receivedAt: number): void;
}

/**
 * Keeps the offset from the quickest of the last `keep` round trips: the least disturbed by queueing.
 *
 * ```ts
 * const clock = createServerClock();
 * clock.observe(sentAt, pong.ts, Date.now());
 * clock.now(); // the server's time, give or take half the quickest round trip
 * ```
 */
export function createServerClock(localNow: () => number = Date.now, keep = 8): ServerClock {
  const samples: { rtt: number; offset: number }[] = [];
  let offset = 0;
  return {
    now: () => localNow() + offset,
    observe(sentAt, serverTs, receivedAt) {
      const rtt = receivedAt - sentAt;
      if (!(rtt >= 0) || !Number.isFinite(serverTs)) return;
      samples.push({ rtt, offset: serverTs - (sentAt + receivedAt) / 2 });
      if (samples.length > keep) samples.shift();
      offset = samples.reduce((best, sample) => (sample.rtt < best.rtt ? sample : best)).offset;
    },
  };
}
