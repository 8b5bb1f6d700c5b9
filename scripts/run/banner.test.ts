import { describe, expect, test } from "bun:test";
import { formatBanner, pricesLines } from "./banner.ts";

describe("the banner's prices", () => {
  test("live from the exchanges: how many, which, of how many", () => {
    expect(pricesLines({ source: "venues", live: ["coinbase", "kraken"], configured: 4, asked: false })).toEqual([
      "  prices     live from 2 venues (coinbase, kraken; 4 configured)",
    ]);
    expect(pricesLines({ source: "venues", live: ["kraken"], configured: 1, asked: true })[0]).toContain("live from 1 venue (kraken");
  });

  test("a fallback to simulated prices is loud; an asked-for mock is one plain row", () => {
    const fallback = pricesLines({ source: "mock", fallback: true }).join("\n");
    expect(fallback).toContain("PRICES ARE SIMULATED: no exchange answered within 10 s (no internet?)");
    expect(pricesLines({ source: "mock", fallback: false })).toEqual(["  prices     simulated (PRICE_SOURCE=mock): a random walk, not BTC"]);
  });

  test("venues asked for and none live: loud, and no fallback", () => {
    expect(pricesLines({ source: "venues", live: [], configured: 4, asked: true }).join("\n")).toContain("NO LIVE PRICE: no exchange answered within 10 s");
  });

  test("the banner carries the prices after the addresses, the page first", () => {
    const banner = formatBanner({
      httpPort: 8000,
      apiPort: 8080,
      wsPort: 8081,
      redisUrl: "redis://127.0.0.1:6390",
      localRedis: true,
      dbPath: ".run/data/bets.db",
      webDir: ".run/web",
      prices: { source: "mock", fallback: true },
      color: true,
    });
    expect(banner).toContain("open       \x1b[1mhttp://localhost:8000/");
    expect(banner).toContain("\x1b[1;33m!!! PRICES ARE SIMULATED");
    expect(banner.indexOf("open")).toBeLessThan(banner.indexOf("PRICES ARE SIMULATED"));
  });
});
