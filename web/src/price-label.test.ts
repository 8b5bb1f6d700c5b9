import { describe, expect, test } from "bun:test";
import { pausedText, sourceLabel } from "./price-label.ts";

describe("sourceLabel", () => {
  test("simulated for the mock, N venues for the exchanges' index", () => {
    expect(sourceLabel({ source: "mock" })).toEqual({ text: "simulated", kind: "mock" });
    expect(sourceLabel({ source: "mock", venues: 0 })).toEqual({ text: "simulated", kind: "mock" });
    expect(sourceLabel({ source: "venues", venues: 3 })).toEqual({ text: "3 venues", kind: "venues" });
    expect(sourceLabel({ source: "venues", venues: 1 })).toEqual({ text: "1 venue", kind: "venues" });
    expect(sourceLabel({ source: "venues" })).toEqual({ text: "exchanges", kind: "venues" });
  });

  test("nothing when the tick does not say", () => {
    expect(sourceLabel({})).toEqual({ text: "", kind: "unknown" });
  });
});

describe("pausedText", () => {
  test("a stale price pauses betting, saying why", () => {
    expect(pausedText({ stale: true, conn: "live", gridStale: false, hasGrid: true })).toBe("Paused: no live price");
    expect(pausedText({ stale: true, conn: "reconnecting", gridStale: true, hasGrid: true })).toBe("Paused: no live price (reconnecting…)");
    expect(pausedText({ stale: true, conn: "offline", gridStale: true, hasGrid: false })).toBe("Paused: no live price (offline…)");
  });

  test("a live price with an old grid pauses betting only; otherwise nothing", () => {
    expect(pausedText({ stale: false, conn: "live", gridStale: true, hasGrid: true })).toBe("Betting paused: waiting for new multipliers");
    expect(pausedText({ stale: false, conn: "live", gridStale: true, hasGrid: false })).toBe("");
    expect(pausedText({ stale: false, conn: "live", gridStale: false, hasGrid: true })).toBe("");
  });
});
