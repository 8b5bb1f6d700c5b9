import type { BusTick } from "../../common/contracts/price.ts";
import type { Admission } from "../../common/prices/tick-sequencer.ts";

/**
 * The API's limits on a signed tick (docs/rules.md, "Bounds").
 *
 * ```ts
 * const bounds: TickBounds = { maxSkewMs: 1000, maxJump: 0.01, staleMs: 5000 };
 * ```
 */
export interface TickBounds {
  /** A tick more than this far ahead of the API's clock is refused. */
  maxSkewMs: number;
  /** A price further than this (relative) from the last taken one is refused while that one is fresh. */
  maxJump: number;
  /** After this long without a taken tick, a far price is taken, after a break. */
  staleMs: number;
}

/**
 * Whether the API takes `tick` after `last`: a tick from the future would
 * freeze the feed (every real tick after it would look old), and a price far
 * from the last one would count as a touch of every band between. A far price
 * that persists is taken once the last one is stale, and then after a break,
 * so the jump itself never decides a bet.
 *
 * ```ts
 * admitTick(tick, last, Date.now(), { maxSkewMs: 1000, maxJump: 0.01, staleMs: 5000 }); // { take: true }
 * ```
 */
export function admitTick(tick: BusTick, last: BusTick | undefined, now: number, { maxSkewMs, maxJump, staleMs }: TickBounds): Admission {
  if (tick.ts > now + maxSkewMs) return { take: false, reason: "future" };
  // In cents, so a move of exactly maxJump is not pushed over it by rounding.
  const lastCents = last && Math.round(last.price * 100);
  if (last && lastCents !== undefined && Math.abs(Math.round(tick.price * 100) - lastCents) > maxJump * lastCents) {
    return tick.ts - last.ts > staleMs ? { take: true, breaks: true } : { take: false, reason: "jump" };
  }
  return { take: true };
}
