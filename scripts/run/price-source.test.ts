import { describe, expect, test } from "bun:test";
import { anyFreePort } from "./ports.ts";
import { liveVenues, waitForLiveVenue, waitForPriceTicks } from "./price-source.ts";

/** A stand-in for price's /healthz whose venues' states the test sets. */
function fakePriceHealth(states: Record<string, string>) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      const venues = Object.fromEntries(Object.entries(states).map(([name, state]) => [name, { state, age_ms: null, reconnects: 0, dropped: 0 }]));
      const anyLive = Object.values(states).includes("live");
      return Response.json({ status: anyLive ? "degraded" : "down", source: "venues", venues, last_tick: null }, { status: anyLive ? 200 : 503 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/healthz`, states, [Symbol.dispose]: () => server.stop(true) };
}

describe("waitForLiveVenue", () => {
  test("returns as soon as one venue is live, naming the live ones", async () => {
    using health = fakePriceHealth({ coinbase: "connecting", kraken: "connecting", bitstamp: "down" });
    setTimeout(() => (health.states.kraken = "live"), 300);
    const started = Date.now();
    const seen = await waitForLiveVenue({ healthUrl: health.url, timeoutMs: 5000, everyMs: 20 });
    expect(seen).toEqual({ live: ["kraken"], configured: 3 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("gives up after the timeout with no live venue (a 503 still counts the configured ones)", async () => {
    using health = fakePriceHealth({ coinbase: "connecting", kraken: "down" });
    const started = Date.now();
    expect(await waitForLiveVenue({ healthUrl: health.url, timeoutMs: 400, everyMs: 20 })).toEqual({ live: [], configured: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test("a health port nobody listens on is no venue; cancelled() stops the wait early", async () => {
    const url = `http://127.0.0.1:${await anyFreePort()}/healthz`;
    expect(await liveVenues(url)).toBeUndefined();
    let stop = false;
    setTimeout(() => (stop = true), 100);
    const started = Date.now();
    expect(await waitForLiveVenue({ healthUrl: url, timeoutMs: 10_000, everyMs: 20, cancelled: () => stop })).toEqual({ live: [], configured: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("waitForPriceTicks", () => {
  test("true once /healthz answers 200 (a tick made), false after the timeout while it answers 503", async () => {
    using health = fakePriceHealth({ coinbase: "connecting" });
    expect(await waitForPriceTicks({ healthUrl: health.url, timeoutMs: 300, everyMs: 20 })).toBe(false);
    setTimeout(() => (health.states.coinbase = "live"), 200);
    expect(await waitForPriceTicks({ healthUrl: health.url, timeoutMs: 5000, everyMs: 20 })).toBe(true);
  });
});
