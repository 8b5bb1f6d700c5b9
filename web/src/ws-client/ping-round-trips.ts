/**
 * One ping answered: sent and received on the local clock, `serverTs` from the pong.
 *
 * ```ts
 * const onPong: RoundTripHandler = (sentAt, serverTs, receivedAt) => clock.observe(sentAt, serverTs, receivedAt);
 * ```
 */
export type RoundTripHandler = (sentAt: number, serverTs: number, receivedAt: number) => void;

/**
 * The pings in flight on one connection, each answered by the next pong.
 *
 * ```ts
 * const trips: PingRoundTrips = createPingRoundTrips(onPong);
 * ```
 */
export interface PingRoundTrips {
  /** A ping went out at `sentAt` (local clock). */
  pinged(sentAt: number): void;
  /** A pong came back carrying `serverTs`, at `receivedAt`: completes the oldest ping in flight, if any. */
  ponged(serverTs: number, receivedAt: number): void;
  /** The socket is gone: its pings will never be answered. */
  forget(): void;
}

/**
 * Pairs each pong with the ping it answers, so each round trip can feed the
 * server clock (`createServerClock().observe`) its offset. Pongs come back in
 * order, so the oldest ping in flight is the one answered.
 *
 * ```ts
 * const trips = createPingRoundTrips((sentAt, serverTs, receivedAt) => clock.observe(sentAt, serverTs, receivedAt));
 * trips.pinged(1_000);
 * trips.ponged(1_520, 1_040); // clock.observe(1_000, 1_520, 1_040)
 * ```
 */
export function createPingRoundTrips(onRoundTrip: RoundTripHandler): PingRoundTrips {
  // A set keeps the order pings went out in; two in the same millisecond count once.
  const inFlight = new Set<number>();
  return {
    pinged: (sentAt) => void inFlight.add(sentAt),
    ponged(serverTs, receivedAt) {
      const first = inFlight.values().next();
      if (first.done) return;
      inFlight.delete(first.value);
      onRoundTrip(first.value, serverTs, receivedAt);
    },
    forget: () => inFlight.clear(),
  };
}
