import { describe, expect, test } from "bun:test";
import type { Tick } from "../../common/contracts/price.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { HttpError } from "../http/http-error.ts";
import { parseHistoryQuery, readPriceHistory, resolveHistoryWindow } from "./service.ts";

describe("resolveHistoryWindow", () => {
  test("defaults to the five minutes before now and 1000 ticks", () => {
    expect(resolveHistoryWindow({}, 1_000_000)).toEqual({ from: 700_000, to: 1_000_000, limit: 1000 });
  });

  test("takes from, to and limit as given, and from defaults relative to to", () => {
    expect(resolveHistoryWindow({ from: 10, to: 20, limit: 5 }, 1e9)).toEqual({ from: 10, to: 20, limit: 5 });
    expect(resolveHistoryWindow({ to: 400_000 }, 1e9)).toEqual({ from: 100_000, to: 400_000, limit: 1000 });
    expect(resolveHistoryWindow({ to: 5 }, 1e9).from).toBe(0);
  });

  test("rejects from after to, and a window over an hour, naming the parameter", () => {
    const problem = (query: Parameters<typeof resolveHistoryWindow>[0]) => {
      try {
        resolveHistoryWindow(query, 1e9);
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        return (error as HttpError).details;
      }
      throw new Error("expected a rejection");
    };
    expect(problem({ from: 2, to: 1 })).toEqual([{ path: "/from", message: "must not be after to" }]);
    expect(problem({ from: 0, to: 3_600_001 })[0]?.path).toBe("/to");
    expect(resolveHistoryWindow({ from: 0, to: 3_600_000 }, 1e9).to).toBe(3_600_000);
  });
});

describe("readPriceHistory", () => {
  const tick = (ts: number): Tick => ({ symbol: "BTC-USD", price: 100 + ts, ts });
  const store = (all: Tick[]): Pick<TickStore, "newestInRange"> => ({
    newestInRange: async (from, to, limit) => all.filter((t) => t.ts >= from && t.ts <= to).slice(-limit),
  });

  test("says whether the limit cut the answer", async () => {
    const ticks = store([1, 2, 3].map(tick));
    expect(await readPriceHistory(ticks, { from: 0, to: 10, limit: 3 })).toMatchObject({ truncated: false, from: 0, to: 10 });
    const cut = await readPriceHistory(ticks, { from: 0, to: 10, limit: 2 });
    expect(cut.ticks.map((t) => t.ts)).toEqual([2, 3]);
    expect(cut.truncated).toBe(true);
  });

  test("a limit keeps the newest ticks of the window, oldest first, whatever their spacing", async () => {
    // Every 100 ms for ten minutes, then a burst every ms, then a lull of a minute before `to`.
    const all = [
      ...Array.from({ length: 6000 }, (_, i) => tick(i * 100)),
      ...Array.from({ length: 3000 }, (_, i) => tick(600_000 + i)),
      tick(690_000),
    ];
    const ticks = store(all);
    for (const [from, to, limit] of [
      [0, 750_000, 3],
      [0, 750_000, 1000],
      [0, 750_000, 5000],
      [400_000, 603_000, 2500],
      [0, 599_950, 7],
      [590_000, 750_000, 9999],
    ] as const) {
      const inWindow = all.filter((t) => t.ts >= from && t.ts <= to);
      const read = await readPriceHistory(ticks, { from, to, limit });
      expect({ from, to, limit, ts: read.ticks.map((t) => t.ts), truncated: read.truncated }).toEqual({
        from,
        to,
        limit,
        ts: inWindow.slice(-limit).map((t) => t.ts),
        truncated: inWindow.length > limit,
      });
    }
  });

  test("asks the store once, for one tick more than the limit", async () => {
    const asked: number[] = [];
    const ticks: Pick<TickStore, "newestInRange"> = {
      newestInRange: async (from, to, limit) => {
        asked.push(limit);
        return [tick(to - 2), tick(to - 1), tick(to)].slice(-limit);
      },
    };
    const read = await readPriceHistory(ticks, { from: 0, to: 3_600_000, limit: 2 });
    expect(read.ticks.map((t) => t.ts)).toEqual([3_599_999, 3_600_000]);
    expect(read.truncated).toBe(true);
    expect(asked).toEqual([3]);
  });
});

describe("parseHistoryQuery", () => {
  const details = (params: Record<string, unknown>) => {
    try {
      parseHistoryQuery(params);
    } catch (error) {
      return (error as HttpError).details.map((detail) => detail.path);
    }
    return [];
  };

  test("reads whole numbers and leaves out what is not given", () => {
    expect(parseHistoryQuery({ from: "0", to: "1700000000000", limit: "5000" })).toEqual({ from: 0, to: 1_700_000_000_000, limit: 5000 });
    expect(parseHistoryQuery({})).toEqual({});
  });

  test("names every bad parameter", () => {
    expect(details({ from: "1.5", to: "-1", limit: "0" })).toEqual(["/from", "/to", "/limit"]);
    expect(details({ from: "", limit: "5001" })).toEqual(["/from", "/limit"]);
    expect(details({ from: "1e3", to: " 5", limit: "0x10" })).toEqual(["/from", "/to", "/limit"]);
    expect(details({ from: ["1", "2"], symbol: "ETH-USD" })).toEqual(["/from", "/symbol"]);
    expect(details({ to: "1".repeat(16) })).toEqual(["/to"]);
  });
});
