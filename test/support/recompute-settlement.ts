/**
 * An independent recomputation of settlement from the stored tick history,
 * written from docs/rules.md alone (it shares no code with api/settlement/),
 * so a test can check every settled bet against what the rules say.
 *
 * The model, from the rules:
 * - **won**: a tick with `t_start ≤ ts ≤ t_end` has `price_cents` in the band
 *   (edges included), or two consecutive stored ticks, both inside the window,
 *   the later one `continuous`, lie on opposite sides of the band (the closed
 *   interval between their prices overlaps it).
 * - **unobserved stretches** (open intervals): before the first tick,
 *   `(-∞, first.ts)`; between consecutive ticks a → b, `(a.ts + staleMs, b.ts)`
 *   when b is continuous, `(a.ts, b.ts)` when b follows a break; after the last
 *   tick z, `(z.ts + staleMs, ∞)`. An open `(x, y)` overlaps the window
 *   `[s, e]` iff `x < e && y > s`.
 * - **void**: not won and an unobserved stretch overlaps the window, or the
 *   first tick after `t_end` is later than `t_end + timeoutMs` (or there is none
 *   and `now` is past that).
 * - **lost**: not won, fully observed, and the first tick after `t_end` has
 *   `ts ≤ t_end + timeoutMs`.
 * - **open**: none of these is known yet (no tick after `t_end`, the window
 *   observed so far, `now ≤ t_end + timeoutMs`).
 */

/** A row of the `ticks` table (common/store/migrations.ts). */
export interface StoredTick {
  ts: number;
  seq: number | null;
  price: number;
  price_cents: number;
  sig?: string | null;
  /** 1: follows the previous stored tick; 0: a break lies before it. */
  continuous: number;
}

/** What of a bet its settlement depends on (a row of the `bets` table has it all). */
export interface BetCell {
  id: string;
  t_start: number;
  t_end: number;
  price_low_cents: number;
  price_high_cents: number;
  stake_cents: number;
  multiplier_centi: number;
}

export type ExpectedStatus = "won" | "lost" | "void" | "open";

/** What the rules say of one bet, and why. */
export interface Recomputed {
  status: ExpectedStatus;
  /** The bet row's `payout_cents`: the winnings for won, else 0. */
  payout_cents: number;
  /** The settlement credit the ledger must hold for the bet (none for lost and open). */
  credit: { kind: "payout" | "refund"; amount_cents: number } | null;
  /** A short human account of the decision, for failure messages. */
  reason: string;
}

export interface SettlementRules {
  /** `STALE_MS`: a price at most this old (equality included) observes the window. */
  staleMs: number;
  /** `SETTLE_TIMEOUT_MS`: an untouched window with no tick by `t_end` + this is void. */
  timeoutMs: number;
  /** The time of the snapshot the ticks were read at (decides "open" against "void" when no tick followed). */
  now: number;
}

/** The payout of a winning bet: stake × multiplier in cents, rounded down. */
export function winningsCents(stakeCents: number, multiplierCenti: number): number {
  return Math.floor((stakeCents * multiplierCenti) / 100);
}

/** The index of the first tick with `ts >= at` (ticks sorted by ts). */
function firstAtOrAfter(ticks: readonly StoredTick[], at: number): number {
  let lo = 0;
  let hi = ticks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ticks[mid]!.ts < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const inBand = (cents: number, bet: BetCell) => cents >= bet.price_low_cents && cents <= bet.price_high_cents;

/** The first unobserved stretch that overlaps the bet's window, described; undefined when the window is observed throughout. */
function unobservedOverlap(ticks: readonly StoredTick[], bet: BetCell, staleMs: number): string | undefined {
  const s = bet.t_start;
  const e = bet.t_end;
  const first = ticks[0];
  if (!first) return "no stored tick at all";
  if (first.ts > s) return `before the first stored tick (ts ${first.ts})`;
  // Stretches that end after s: those ending at each tick b with b.ts > s, up to the first tick after e.
  for (let i = Math.max(1, firstAtOrAfter(ticks, s + 1)); i < ticks.length; i++) {
    const a = ticks[i - 1]!;
    const b = ticks[i]!;
    const from = b.continuous ? a.ts + staleMs : a.ts;
    if (from < e) {
      if (b.ts > s && from < b.ts) return b.continuous ? `stale (${from}, ${b.ts}) after tick ${a.ts}` : `break (${a.ts}, ${b.ts})`;
    }
    if (b.ts > e) return undefined;
  }
  const last = ticks[ticks.length - 1]!;
  if (last.ts + staleMs < e) return `stale after the last stored tick ${last.ts} (from ${last.ts + staleMs})`;
  return undefined;
}

/**
 * What the rules say of `bet` given the stored `ticks` (sorted by ts, as in the table).
 *
 * ```ts
 * recomputeSettlement(ticks, bet, { staleMs: 1000, timeoutMs: 5000, now: Date.now() });
 * // { status: "won", payout_cents: 235, credit: { kind: "payout", amount_cents: 235 }, reason: "touch at 1000 (4200000)" }
 * ```
 */
export function recomputeSettlement(ticks: readonly StoredTick[], bet: BetCell, rules: SettlementRules): Recomputed {
  const s = bet.t_start;
  const e = bet.t_end;
  const start = firstAtOrAfter(ticks, s);
  for (let i = start; i < ticks.length && ticks[i]!.ts <= e; i++) {
    const tick = ticks[i]!;
    let why: string | undefined;
    if (inBand(tick.price_cents, bet)) why = `touch at ${tick.ts} (${tick.price_cents})`;
    else if (i > start && tick.continuous) {
      const before = ticks[i - 1]!;
      if (Math.min(before.price_cents, tick.price_cents) <= bet.price_high_cents && Math.max(before.price_cents, tick.price_cents) >= bet.price_low_cents) {
        why = `straddle ${before.ts} (${before.price_cents}) → ${tick.ts} (${tick.price_cents})`;
      }
    }
    if (why) {
      const payout = winningsCents(bet.stake_cents, bet.multiplier_centi);
      return { status: "won", payout_cents: payout, credit: { kind: "payout", amount_cents: payout }, reason: why };
    }
  }
  const voided = (reason: string): Recomputed => ({ status: "void", payout_cents: 0, credit: { kind: "refund", amount_cents: bet.stake_cents }, reason });
  const unobserved = unobservedOverlap(ticks, bet, rules.staleMs);
  if (unobserved) return voided(`unobserved: ${unobserved}`);
  const next = ticks[firstAtOrAfter(ticks, e + 1)];
  const deadline = e + rules.timeoutMs;
  if (!next) {
    if (rules.now > deadline) return voided(`no tick after t_end by ${deadline}`);
    return { status: "open", payout_cents: 0, credit: null, reason: "observed so far; no tick after t_end yet" };
  }
  if (next.ts > deadline) return voided(`the first tick after t_end came at ${next.ts}, after ${deadline}`);
  return { status: "lost", payout_cents: 0, credit: null, reason: `observed throughout; decided by the tick at ${next.ts}` };
}

/** `recomputeSettlement` for many bets over one history (sorted here, so any order will do). */
export function recomputeSettlements(ticks: readonly StoredTick[], bets: readonly BetCell[], rules: SettlementRules): Map<string, Recomputed> {
  const sorted = [...ticks].sort((a, b) => a.ts - b.ts);
  return new Map(bets.map((bet) => [bet.id, recomputeSettlement(sorted, bet, rules)]));
}

/** What `checkTickLog` found. */
export interface TickLogCheck {
  /** Violations of the rules for the stored log; empty when it is sound. */
  problems: string[];
  /**
   * Breaks none of the rules' reasons explains (the sequence continues, the move is within
   * the bound): allowed by the log's own rules but worth reporting, since each voids windows.
   */
  unexplainedBreaks: number[];
}

/**
 * Checks the stored tick log itself: ts strictly increasing, the first tick a break,
 * `price_cents = Math.round(price × 100)`, and for each continuous tick the sequence
 * continues (when both have a number) and the price moved at most `maxJump`
 * (`PRICE_MAX_JUMP`) from the previous one. With `signed`, every tick has a seq and a sig.
 *
 * ```ts
 * checkTickLog(ticks, { maxJump: 0.01 }).problems; // []
 * ```
 */
export function checkTickLog(ticks: readonly StoredTick[], { maxJump = 0.01, signed = false }: { maxJump?: number; signed?: boolean } = {}): TickLogCheck {
  const problems: string[] = [];
  const unexplainedBreaks: number[] = [];
  ticks.forEach((tick, i) => {
    if (tick.continuous !== 0 && tick.continuous !== 1) problems.push(`tick ${tick.ts}: continuous is ${tick.continuous}`);
    if (tick.price_cents !== Math.round(tick.price * 100)) problems.push(`tick ${tick.ts}: price_cents ${tick.price_cents} for price ${tick.price}`);
    if (signed && (tick.seq === null || !tick.sig)) problems.push(`tick ${tick.ts}: unsigned (seq ${tick.seq}, sig ${tick.sig ?? "none"})`);
    const before = ticks[i - 1];
    if (!before) {
      if (tick.continuous) problems.push(`tick ${tick.ts}: the first stored tick is marked continuous`);
      return;
    }
    if (tick.ts <= before.ts) problems.push(`tick ${tick.ts}: not after the previous tick ${before.ts}`);
    const seqContinues = tick.seq !== null && before.seq !== null && tick.seq === before.seq + 1;
    const move = Math.abs(tick.price / before.price - 1);
    // A hair of slack for the division's rounding: the bound itself is allowed.
    const jumped = move > maxJump + 1e-12;
    if (tick.continuous) {
      if (tick.seq !== null && before.seq !== null && !seqContinues) problems.push(`tick ${tick.ts}: continuous but seq ${tick.seq} follows ${before.seq}`);
      if (jumped) problems.push(`tick ${tick.ts}: continuous but the price moved ${(move * 100).toFixed(3)} % from ${before.price} (bound ${maxJump * 100} %)`);
    } else if (seqContinues && !jumped) {
      unexplainedBreaks.push(tick.ts);
    }
  });
  return { problems, unexplainedBreaks };
}
