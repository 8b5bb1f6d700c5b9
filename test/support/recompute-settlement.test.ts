import { describe, expect, test } from "bun:test";
import { type BetCell, checkTickLog, recomputeSettlement, recomputeSettlements, type StoredTick } from "./recompute-settlement.ts";

const STALE = 1000;
const TIMEOUT = 5000;
const S = 10_000;
const E = 11_000; // E − S == STALE
const LOW = 4_200_000;
const HIGH = 4_201_000;
const BELOW = LOW - 500;
const ABOVE = HIGH + 500;
const rules = { staleMs: STALE, timeoutMs: TIMEOUT, now: 1_000_000 };

const bet = (over: Partial<BetCell> = {}): BetCell => ({
  id: "b",
  t_start: S,
  t_end: E,
  price_low_cents: LOW,
  price_high_cents: HIGH,
  stake_cents: 1000,
  multiplier_centi: 235,
  ...over,
});

/**
 * A stored log from `[ts, cents]` pairs, "break" as a third element marking a break before
 * that tick; numbered consecutively, the first tick a break, as the API stores them.
 */
function log(...entries: [number, number, "break"?][]): StoredTick[] {
  return entries.map(([ts, cents, brk], i) => ({ ts, seq: i + 1, price: cents / 100, price_cents: cents, sig: "s", continuous: i === 0 || brk ? 0 : 1 }));
}
/** Ticks every `every` ms over [from, to] at `cents`. */
function steady(from: number, to: number, cents = BELOW, every = 200): [number, number][] {
  const out: [number, number][] = [];
  for (let ts = from; ts <= to; ts += every) out.push([ts, cents]);
  return out;
}
const statusOf = (ticks: StoredTick[], b: BetCell = bet(), r = rules) => recomputeSettlement(ticks, b, r).status;

describe("won", () => {
  test("a touch at each window edge and each band edge wins, paying stake × multiplier rounded down", () => {
    for (const [ts, cents] of [
      [S, LOW],
      [S, HIGH],
      [E, LOW],
      [E, HIGH],
      [S + 500, LOW + 1],
    ]) {
      const ticks = log(...steady(S - 2000, S - 200), [ts!, cents!], ...steady(E + 200, E + 1000).filter(([t]) => t > ts!));
      const result = recomputeSettlement(ticks, bet({ stake_cents: 333, multiplier_centi: 235 }), rules);
      expect({ ts, cents, ...result, reason: undefined }).toEqual({ ts, cents, status: "won", payout_cents: 782, credit: { kind: "payout", amount_cents: 782 }, reason: undefined });
    }
  });

  test("a touch 1 ms outside the window, or 1 cent outside the band, does not win", () => {
    // The other ticks on the same side of the band as the one tested, so no straddle.
    const around = (ts: number, cents: number, side = BELOW) => log(...steady(S - 2000, ts - 1, side).slice(0, -1), [ts, cents], ...steady(ts + 100, E + 1000, side, 100));
    expect(statusOf(around(S - 1, LOW))).toBe("lost");
    expect(statusOf(around(E + 1, LOW))).toBe("lost");
    expect(statusOf(around(S + 500, LOW - 1))).toBe("lost");
    expect(statusOf(around(S + 500, HIGH + 1, ABOVE))).toBe("lost");
  });

  test("a straddle between two ticks inside the window wins, also with either tick on a window edge", () => {
    for (const [a, b] of [
      [S + 100, S + 300],
      [S, S + 200],
      [E - 200, E],
    ]) {
      const ticks = log(...steady(S - 2000, S - 200), [a!, BELOW], [b!, ABOVE], ...steady(E + 200, E + 1000, ABOVE));
      expect({ a, b, status: statusOf(ticks) }).toEqual({ a, b, status: "won" });
    }
  });

  test("a straddle across t_start is not a win: the crossing may have come before the window (lost)", () => {
    const ticks = log(...steady(S - 2000, S - 100), [S + 100, ABOVE], ...steady(S + 300, E + 500, ABOVE));
    expect(ticks.find((t) => t.ts === S - 200)!.price_cents).toBe(BELOW);
    expect(recomputeSettlement(ticks, bet(), rules)).toMatchObject({ status: "lost", payout_cents: 0, credit: null });
  });

  test("a straddle across t_end is not a win (lost)", () => {
    const ticks = log(...steady(S - 2000, E - 100), [E + 100, ABOVE]);
    expect(statusOf(ticks)).toBe("lost");
  });

  test("a straddle across a break is not a win, and the break voids the window", () => {
    const ticks = log(...steady(S - 2000, S + 100), [S + 300, ABOVE, "break"], ...steady(S + 500, E + 500, ABOVE));
    expect(recomputeSettlement(ticks, bet(), rules)).toMatchObject({ status: "void", payout_cents: 0, credit: { kind: "refund", amount_cents: 1000 } });
  });

  test("a straddle across a stale gap with no break still wins: the price passed through the band", () => {
    const long = bet({ t_end: S + 3000 });
    const ticks = log(...steady(S - 2000, S + 100), [S + 2500, ABOVE], ...steady(S + 2700, S + 4000, ABOVE));
    expect(statusOf(ticks, long)).toBe("won");
  });

  test("a touch before or after a stale stretch still wins", () => {
    const touchedThenStale = log(...steady(S - 2000, S - 200), [S + 100, LOW], [E + 500, BELOW]);
    expect(statusOf(touchedThenStale)).toBe("won");
    const staleThenTouched = log([S - 3000, BELOW], [E, HIGH], [E + 200, BELOW]);
    expect(statusOf(staleThenTouched)).toBe("won");
  });
});

describe("observed or not", () => {
  test("a gap ending exactly at t_start leaves the window observed (lost); ending 1 ms later, void", () => {
    const endingAtStart = log(...steady(S - 3000, S - 2000), [S, BELOW], ...steady(S + 200, E + 200));
    expect(statusOf(endingAtStart)).toBe("lost");
    const endingAfterStart = log(...steady(S - 3000, S - 2000), [S + 1, BELOW], ...steady(S + 201, E + 201));
    expect(statusOf(endingAfterStart)).toBe("void");
  });

  test("the last tick exactly at t_start with t_end − t_start == STALE_MS: observed to t_end (lost); the control 1 ms earlier is void", () => {
    expect(E - S).toBe(STALE);
    expect(statusOf(log(...steady(S - 2000, S), [E + 1, BELOW]))).toBe("lost");
    expect(statusOf(log(...steady(S - 2001, S - 1), [E + 1, BELOW]))).toBe("void");
  });

  test("a gap ending exactly at t_end voids the window: the price was stale inside it", () => {
    expect(statusOf(log(...steady(S - 2000, S - 200), [E, BELOW], [E + 100, BELOW]))).toBe("void");
  });

  test("a tick exactly STALE_MS old at t_end is observed (lost); 1 ms older, void", () => {
    const long = bet({ t_end: S + 3000 });
    expect(statusOf(log(...steady(S - 1000, S + 2000), [S + 3500, BELOW]), long)).toBe("lost");
    expect(statusOf(log(...steady(S - 1001, S + 1999), [S + 3500, BELOW]), long)).toBe("void");
  });

  test("a break overlapping the window voids it, even a short one with fresh ticks on both sides", () => {
    expect(statusOf(log(...steady(S - 1000, S + 400), [S + 450, BELOW, "break"], ...steady(S + 600, E + 200)))).toBe("void");
  });

  test("a break whose later tick is exactly at t_start does not reach the window (the stretch is open); the ticks on from t_start observe it, so lost", () => {
    const ticks = log(...steady(S - 1000, S - 200), [S, BELOW, "break"], ...steady(S + 200, E + 200));
    expect(recomputeSettlement(ticks, bet(), rules)).toMatchObject({ status: "lost" });
  });

  test("a break whose later tick is 1 ms after t_start voids the window", () => {
    expect(statusOf(log(...steady(S - 1000, S - 200), [S + 1, BELOW, "break"], ...steady(S + 201, E + 201)))).toBe("void");
  });

  test("a break right after a tick exactly at t_end does not reach the window (the stretch is open), so the break as first tick after t_end gives lost", () => {
    expect(statusOf(log(...steady(S - 1000, E), [E + 300, BELOW, "break"]))).toBe("lost");
    expect(statusOf(log(...steady(S - 1000, E - 1, 100), [E + 300, BELOW, "break"]))).toBe("void");
  });

  test("a window before the first stored tick is void; one starting exactly at the first tick is observed (lost)", () => {
    expect(statusOf(log(...steady(S + 1, E + 201)))).toBe("void");
    expect(statusOf(log(...steady(S, E + 200)))).toBe("lost");
  });
});

describe("when lost and void are decided", () => {
  test("the first tick after t_end at exactly t_end + SETTLE_TIMEOUT_MS decides lost; 1 ms later, void", () => {
    expect(recomputeSettlement(log(...steady(S - 1000, E), [E + TIMEOUT, BELOW]), bet(), rules)).toMatchObject({ status: "lost", credit: null });
    expect(recomputeSettlement(log(...steady(S - 1000, E), [E + TIMEOUT + 1, BELOW]), bet(), rules)).toMatchObject({
      status: "void",
      credit: { kind: "refund", amount_cents: 1000 },
    });
  });

  test("an observed window with no tick after t_end is open until t_end + SETTLE_TIMEOUT_MS, then void", () => {
    const ticks = log(...steady(S - 1000, E));
    expect(statusOf(ticks, bet(), { ...rules, now: E + 100 })).toBe("open");
    expect(statusOf(ticks, bet(), { ...rules, now: E + TIMEOUT })).toBe("open");
    expect(statusOf(ticks, bet(), { ...rules, now: E + TIMEOUT + 1 })).toBe("void");
  });

  test("a window already known to be unobserved is void before any tick after t_end", () => {
    expect(statusOf(log(...steady(S - 1000, S - 200)), bet(), { ...rules, now: E + 1 })).toBe("void");
  });

  test("a last tick exactly STALE_MS before t_end with none after it leaves the window open; 1 ms earlier, void", () => {
    expect(statusOf(log(...steady(S - 1000, E - STALE)), bet(), { ...rules, now: E + 1 })).toBe("open");
    expect(statusOf(log(...steady(S - 1001, E - STALE - 1)), bet(), { ...rules, now: E + 1 })).toBe("void");
  });

  test("a touched window is won before any tick after t_end", () => {
    expect(statusOf(log(...steady(S - 1000, S + 200), [S + 400, LOW]), bet(), { ...rules, now: S + 401 })).toBe("won");
  });

  test("with no ticks at all the window is void once past the timeout, and already before it: before the first tick everything is unobserved", () => {
    expect(statusOf([], bet(), { ...rules, now: E + TIMEOUT + 1 })).toBe("void");
    expect(statusOf([], bet(), { ...rules, now: E + 1 })).toBe("void");
  });

  test("recomputeSettlements takes the ticks in any order", () => {
    const ticks = log(...steady(S - 1000, S + 200), [S + 400, LOW], ...steady(S + 600, E + 200));
    const results = recomputeSettlements([...ticks].reverse(), [bet({ id: "x" }), bet({ id: "y", price_low_cents: HIGH + 100, price_high_cents: HIGH + 200 })], rules);
    expect([results.get("x")?.status, results.get("y")?.status]).toEqual(["won", "lost"]);
  });
});

describe("checkTickLog", () => {
  const tick = (ts: number, seq: number | null, price: number, continuous: number, sig: string | null = "s"): StoredTick => ({
    ts,
    seq,
    price,
    price_cents: Math.round(price * 100),
    sig,
    continuous,
  });

  test("a sound log passes, a move of exactly the bound included", () => {
    const ticks = [tick(1000, 7, 100, 0), tick(1100, 8, 101, 1), tick(1200, 9, 100.5, 1), tick(9000, 12, 100, 0)];
    expect(checkTickLog(ticks, { maxJump: 0.01, signed: true })).toEqual({ problems: [], unexplainedBreaks: [] });
  });

  test("the first tick marked continuous is a problem", () => {
    expect(checkTickLog([tick(1000, 1, 100, 1)]).problems).toEqual(["tick 1000: the first stored tick is marked continuous"]);
  });

  test("a continuous tick that skips a number, or moves more than the bound, is a problem", () => {
    expect(checkTickLog([tick(1000, 1, 100, 0), tick(1100, 3, 100, 1)]).problems).toEqual(["tick 1100: continuous but seq 3 follows 1"]);
    expect(checkTickLog([tick(1000, 1, 100, 0), tick(1100, 2, 101.02, 1)]).problems).toHaveLength(1);
    expect(checkTickLog([tick(1000, 1, 100, 0), tick(1100, 2, 98.98, 1)], { maxJump: 0.01 }).problems).toHaveLength(1);
  });

  test("without numbers, continuity is not checked by sequence", () => {
    expect(checkTickLog([tick(1000, null, 100, 0, null), tick(1100, null, 100, 1, null)]).problems).toEqual([]);
    expect(checkTickLog([tick(1000, null, 100, 0, null)], { signed: true }).problems).toHaveLength(1);
  });

  test("ticks out of order and a price_cents that is not the rounded price are problems", () => {
    expect(checkTickLog([tick(1000, 1, 100, 0), tick(1000, 2, 100, 1)]).problems).toEqual(["tick 1000: not after the previous tick 1000"]);
    expect(checkTickLog([{ ...tick(1000, 1, 100.5, 0), price_cents: 10_000 }]).problems).toEqual(["tick 1000: price_cents 10000 for price 100.5"]);
  });

  test("a break the sequence and the bound do not explain is reported apart", () => {
    const result = checkTickLog([tick(1000, 1, 100, 0), tick(1100, 2, 100, 0), tick(1200, 4, 100, 0), tick(1300, 5, 110, 0)]);
    expect(result).toEqual({ problems: [], unexplainedBreaks: [1100] });
  });
});
