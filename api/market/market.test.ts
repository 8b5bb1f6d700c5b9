import { describe, expect, test } from "bun:test";
import { createMarket } from "./market.ts";

describe("market", () => {
  test("a fresh price is offered; a stale one is not", () => {
    const market = createMarket({ sigmaFloor: 0.0001, staleMs: 5000 });
    market.observe({ symbol: "BTC-USD", price: 42_000, ts: 10_000 });
    expect(market.fresh(15_000)?.price).toBe(42_000);
    expect(market.fresh(15_001)).toBeUndefined();
  });

  test("while the price is in doubt (a tick was refused) nothing is fresh, until the next tick is observed", () => {
    const market = createMarket({ sigmaFloor: 0.0001, staleMs: 5000 });
    market.observe({ symbol: "BTC-USD", price: 42_000, ts: 10_000 });
    market.doubt();
    expect(market.fresh(10_500)).toBeUndefined();
    market.observe({ symbol: "BTC-USD", price: 42_010, ts: 11_000 });
    expect(market.fresh(11_000)?.price).toBe(42_010);
  });

  test("keeps only the tick's public fields", () => {
    const market = createMarket({ sigmaFloor: 0.0001, staleMs: 5000 });
    market.observe({ symbol: "BTC-USD", price: 42_000, ts: 10_000, seq: 4, sig: "x" } as never);
    expect(market.latest()).toEqual({ symbol: "BTC-USD", price: 42_000, ts: 10_000 });
  });
});
