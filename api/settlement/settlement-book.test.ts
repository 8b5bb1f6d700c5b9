import { describe, expect, test } from "bun:test";
import { createSettlementBook, type OpenBet } from "./settlement-book.ts";

const STALE = 5000;
const TIMEOUT = 10_000;
let n = 0;
/** A bet on band [low, low + 1000] cents in window [tStart, tStart + 5000]. */
function bet(tStart: number, lowCents: number, id = `b${++n}`): OpenBet {
  return { id, playerId: "p", tStart, tEnd: tStart + 5000, lowCents, highCents: lowCents + 1000, stakeCents: 100, multiplierCenti: 300 };
}
function book() {
  return createSettlementBook({ staleMs: STALE, graceMs: 2000, timeoutMs: TIMEOUT });
}
const outcomes = (decisions: { bet: OpenBet; outcome: string }[]) => decisions.map((d) => `${d.bet.id}:${d.outcome}`);

describe("winning", () => {
  test("a tick in the window with a price in the band wins, at either edge of band and window", () => {
    for (const [ts, price] of [
      [10_000, 4_200_000],
      [15_000, 4_201_000],
      [12_345, 4_200_500],
    ] as const) {
      const b = book();
      b.add(bet(10_000, 4_200_000, "x"));
      b.onTick(9_000, 4_100_000);
      expect(outcomes(b.onTick(ts, price))).toEqual(["x:won"]);
      expect(b.openBets).toBe(0);
    }
  });

  test("a tick just outside the window or the band does not win", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    expect(b.onTick(9_999, 4_200_500)).toEqual([]);
    expect(b.onTick(10_000, 4_201_001)).toEqual([]);
    expect(b.onTick(11_000, 4_201_500)).toEqual([]);
    expect(b.openBets).toBe(1);
  });

  test("two consecutive ticks inside the window on opposite sides of the band win (the price passed through)", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.add(bet(10_000, 4_300_000, "far"));
    b.onTick(10_500, 4_190_000);
    expect(outcomes(b.onTick(11_000, 4_210_000))).toEqual(["x:won"]);
    expect(b.openBets).toBe(1);
  });

  test("a straddle across the window's opening does not count: the first tick was before the window", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_900, 4_190_000);
    expect(b.onTick(10_100, 4_210_000)).toEqual([]);
  });

  test("only the bands between the two prices are touched, in every window open at the time", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "a"));
    b.add(bet(10_000, 4_201_000, "b"));
    b.add(bet(10_000, 4_203_000, "c"));
    b.add(bet(15_000, 4_201_000, "next-window"));
    b.onTick(10_000, 4_199_000);
    expect(outcomes(b.onTick(11_000, 4_201_500)).sort()).toEqual(["a:won", "b:won"]);
    expect(outcomes(b.onTick(15_000, 4_201_200)).sort()).toEqual(["next-window:won"]);
  });
});

describe("losing and voiding", () => {
  test("an untouched window is lost on the first tick after t_end", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    for (let ts = 8_000; ts <= 15_000; ts += 1000) expect(b.onTick(ts, 4_100_000)).toEqual([]);
    expect(outcomes(b.onTick(15_001, 4_100_000))).toEqual(["x:lost"]);
  });

  test("with no tick after t_end, an observed window waits for the next tick: it continues the feed, so lost", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    for (let ts = 9_000; ts <= 14_000; ts += 1000) b.onTick(ts, 4_100_000);
    expect(b.hasDue(16_999)).toBe(false);
    expect(b.hasDue(17_000)).toBe(true);
    expect(b.onClock(17_000)).toEqual([]);
    expect(b.onClock(26_999)).toEqual([]);
    expect(outcomes(b.onTick(25_000, 4_100_000))).toEqual(["x:lost"]);
  });

  test("with no tick after t_end, an observed window waits: the next tick after a break voids it", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    for (let ts = 9_000; ts <= 14_000; ts += 1000) b.onTick(ts, 4_100_000);
    expect(b.onClock(17_000)).toEqual([]);
    expect(outcomes(b.onTick(18_000, 4_100_000, false))).toEqual(["x:void"]);
  });

  test("no tick within the timeout after t_end: void, by the clock a grace later or by a later tick", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    for (let ts = 9_000; ts <= 14_000; ts += 1000) b.onTick(ts, 4_100_000);
    expect(b.onClock(15_000 + TIMEOUT + 1999)).toEqual([]);
    expect(outcomes(b.onClock(15_000 + TIMEOUT + 2000))).toEqual(["x:void"]);
    const late = book();
    late.add(bet(10_000, 4_200_000, "y"));
    for (let ts = 9_000; ts <= 14_000; ts += 1000) late.onTick(ts, 4_100_000);
    expect(outcomes(late.onTick(15_000 + TIMEOUT + 1, 4_100_000))).toEqual(["y:void"]);
    const inTime = book();
    inTime.add(bet(10_000, 4_200_000, "z"));
    for (let ts = 9_000; ts <= 14_000; ts += 1000) inTime.onTick(ts, 4_100_000);
    expect(outcomes(inTime.onTick(15_000 + TIMEOUT, 4_100_000))).toEqual(["z:lost"]);
  });

  test("a window not fully observed (a gap longer than staleMs) is void, never lost", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_000, 4_100_000);
    // The 9,000 price is stale from 14,000: the window's last second went unobserved.
    expect(outcomes(b.onTick(16_000, 4_100_000))).toEqual(["x:void"]);
    const c = book();
    c.add(bet(10_000, 4_200_000, "y"));
    c.onTick(9_000, 4_100_000);
    c.onTick(11_000, 4_100_000);
    // 11,000 stays fresh until 16,000, past t_end: fully observed, so lost.
    expect(outcomes(c.onTick(17_000, 4_100_000))).toEqual(["y:lost"]);
  });

  test("a feed that died before the window voids it when the clock decides", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(1_000, 4_100_000);
    expect(outcomes(b.onClock(20_000))).toEqual(["x:void"]);
    const none = book();
    none.add(bet(10_000, 4_200_000, "y"));
    expect(outcomes(none.onClock(20_000))).toEqual(["y:void"]);
  });

  test("the clock voids at once a window it knows is unobserved: the last tick goes stale before t_end", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_999, 4_100_000); // stale from 14,999: one ms of the window unobserved
    expect(outcomes(b.onClock(17_000))).toEqual(["x:void"]);
    const c = book();
    c.add(bet(10_000, 4_200_000, "y"));
    c.onTick(10_000, 4_100_000); // exactly STALE old at t_end: observed to the end
    expect(c.onClock(17_000)).toEqual([]);
  });

  test("a touch still wins after a gap: the price was seen in the band", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(1_000, 4_100_000);
    expect(outcomes(b.onTick(14_000, 4_200_100))).toEqual(["x:won"]);
  });
});

describe("the edges are exact (a price at most staleMs old observes)", () => {
  test("a gap ending exactly at t_start: the window is observed from its first instant, so lost", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(1_000, 4_100_000);
    for (let ts = 10_000; ts <= 15_000; ts += 1000) b.onTick(ts, 4_100_000);
    expect(outcomes(b.onTick(16_000, 4_100_000))).toEqual(["x:lost"]);
  });

  test("a gap ending 1 ms after t_start leaves t_start unobserved: void", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(1_000, 4_100_000);
    for (let ts = 10_001; ts <= 14_001; ts += 1000) b.onTick(ts, 4_100_000);
    expect(outcomes(b.onTick(15_001, 4_100_000))).toEqual(["x:void"]);
  });

  test("the last tick exactly at t_start, with t_end - t_start == staleMs, observes the whole window: lost", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x")); // [10,000, 15,000]: 5,000 ms = STALE
    b.onTick(10_000, 4_100_000);
    expect(outcomes(b.onTick(20_000, 4_100_000))).toEqual(["x:lost"]);
  });

  test("control: the last tick 1 ms before t_start goes stale 1 ms before t_end: void", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_999, 4_100_000);
    expect(outcomes(b.onTick(20_000, 4_100_000))).toEqual(["x:void"]);
  });

  test("a gap ending exactly at t_end: the stretch before it is unobserved, so void, but a touch at t_end wins", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.add(bet(10_000, 4_300_000, "touched"));
    b.onTick(9_000, 4_100_000);
    // 9,000 is stale from 14,000; the next tick comes at exactly t_end.
    expect(outcomes(b.onTick(15_000, 4_300_500))).toEqual(["touched:won"]);
    expect(outcomes(b.onTick(15_001, 4_300_500))).toEqual(["x:void"]);
  });

  test("a tick exactly staleMs old at t_end, with the next tick after t_end: lost", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_000, 4_100_000);
    b.onTick(10_000, 4_100_000); // fresh until exactly 15,000 = t_end
    expect(outcomes(b.onTick(15_500, 4_100_000))).toEqual(["x:lost"]);
  });
});

describe("breaks", () => {
  test("a break over the window voids an untouched one, even when the ticks around it are close together", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(9_000, 4_100_000);
    b.onTick(11_000, 4_100_000);
    b.onTick(12_000, 4_100_000, false); // ticks between 11,000 and 12,000 could not be read back
    expect(outcomes(b.onTick(16_000, 4_100_000))).toEqual(["x:void"]);
  });

  test("a break that ends exactly at t_start does not reach into the window", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(8_000, 4_100_000);
    b.onTick(10_000, 4_100_000, false);
    for (let ts = 11_000; ts <= 15_000; ts += 1000) b.onTick(ts, 4_100_000);
    expect(outcomes(b.onTick(16_000, 4_100_000))).toEqual(["x:lost"]);
  });

  test("no straddle across a break: two prices on either side of the band with a break between decide nothing", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(10_500, 4_190_000);
    expect(b.onTick(11_000, 4_210_000, false)).toEqual([]);
    expect(outcomes(b.onTick(16_000, 4_210_000))).toEqual(["x:void"]);
  });

  test("a touch after a break still wins", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(10_500, 4_190_000);
    expect(outcomes(b.onTick(11_000, 4_200_500, false))).toEqual(["x:won"]);
  });
});

describe("ticks and the index", () => {
  test("a tick not newer than the last one is ignored and counted", () => {
    const b = book();
    b.add(bet(10_000, 4_200_000, "x"));
    b.onTick(11_000, 4_100_000);
    expect(b.onTick(11_000, 4_200_500)).toEqual([]);
    expect(b.onTick(10_500, 4_200_500)).toEqual([]);
    expect(b.ignoredTicks).toBe(2);
    expect(b.openBets).toBe(1);
  });

  test("each bet is decided exactly once", () => {
    const b = book();
    const x = bet(10_000, 4_200_000, "x");
    b.add(x);
    b.onTick(9_500, 4_100_000);
    expect(outcomes(b.onTick(10_000, 4_200_000))).toEqual(["x:won"]);
    expect(b.onTick(11_000, 4_200_000)).toEqual([]);
    expect(b.onTick(16_000, 4_100_000)).toEqual([]);
  });
});
