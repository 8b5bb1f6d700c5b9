/**
 * Time as the worker sees it, so tests can drive it by hand.
 *
 * ```ts
 * const cancel = clock.setTimer(() => log.info("slot"), 1000 - (clock.now() % 1000));
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`, never before; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/**
 * How early the real clock's timer wakes before its time. A `setTimeout` of a
 * whole-millisecond delay computed from `Date.now()` fires about 0.8 ms after the
 * millisecond it was aimed at (half of it is `Date.now()` truncating, the rest
 * the timer). Sleeping until about this long before the time, by the sub-ms
 * clock, then yielding to the event loop until the millisecond turns starts a
 * slot's tick within microseconds of its grid time, for under a millisecond of
 * polling per timer.
 *
 * ```ts
 * systemClock.setTimer(fn, 30);            // sleeps about 29 ms, then polls
 * systemClock.setTimer(fn, TIMER_LEAD_MS); // due within the lead: polls from the start
 * ```
 */
export const TIMER_LEAD_MS = 1;

/** The wall clock with sub-millisecond resolution. */
const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * The real clock: `Date.now`, and a timer that sleeps with `setTimeout` until
 * shortly before its time, then polls with `setImmediate` (which still lets
 * socket reads run) until `Date.now()` reaches it.
 *
 * ```ts
 * const cancel = systemClock.setTimer(() => console.log(systemClock.now()), 250);
 * cancel(); // it never fires
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const due = Date.now() + ms;
    let cancelled = false;
    let sleeping: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      if (cancelled) return;
      if (Date.now() >= due) fn();
      else setImmediate(poll);
    };
    const sleepMs = Math.floor(due - preciseNow() - TIMER_LEAD_MS);
    if (sleepMs > 0) sleeping = setTimeout(poll, sleepMs);
    else setImmediate(poll);
    return () => {
      cancelled = true;
      clearTimeout(sleeping);
    };
  },
};
