import { expect, test } from "bun:test";
import { createLogger } from "../common/log.ts";
import { sampleValue } from "../common/metrics/samples.ts";
import { type PriceHealth, registerPriceMetrics, startPriceHealth } from "./health.ts";
import type { PriceWorkerStats } from "./worker.ts";

const log = createLogger({ component: "price", level: "silent" });

test("GET /healthz answers the report: 200 while ok or degraded, 503 when down; anything else 404", async () => {
  let report: PriceHealth = { status: "ok", source: "venues", venues: {}, last_tick: null };
  const health = startPriceHealth({ port: 0, report: () => report, log });
  try {
    const url = `http://127.0.0.1:${health.port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    report = { ...report, status: "degraded", venues: { kraken: { state: "stale", age_ms: 4000, reconnects: 2, dropped: 1, gaps: 3 } } };
    const degraded = await fetch(`${url}/healthz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toEqual(report);
    report = { ...report, status: "down" };
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/price/healthz`)).status).toBe(503);
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await fetch(`${url}/healthz`, { method: "POST" })).status).toBe(404);
  } finally {
    await health.stop();
  }
});

test("GET /metrics shows the tick loop's counters, the last tick's age and each venue's state, read from the live report", async () => {
  let report: PriceHealth = {
    status: "degraded",
    source: "venues",
    venues: { kraken: { state: "live", age_ms: 120, reconnects: 1, dropped: 0, gaps: 2 }, coinbase: { state: "stale", age_ms: 4000, reconnects: 3, dropped: 5, gaps: 0 } },
    last_tick: { ts: 1_700_000_000_000, age_ms: 250, venues: 1 },
  };
  const stats: PriceWorkerStats = { ticks: 12, published: 10, failed: 1, skipped: { busy: 0, disconnected: 1, late: 0, "no-price": 0 } };
  registerPriceMetrics({ report: () => report, stats: () => stats });
  const health = startPriceHealth({ port: 0, report: () => report, log });
  try {
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${health.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("text/plain");
      return await response.text();
    };
    let text = await scrape();
    expect(sampleValue(text, "tap_price_ticks_published_total")).toBe(10);
    expect(sampleValue(text, "tap_price_slots_skipped_total", { reason: "disconnected" })).toBe(1);
    expect(sampleValue(text, "tap_price_last_tick_age_seconds")).toBe(0.25);
    expect(sampleValue(text, "tap_price_status", { status: "degraded" })).toBe(1);
    expect(sampleValue(text, "tap_price_venue_state", { venue: "coinbase", state: "stale" })).toBe(1);
    expect(sampleValue(text, "tap_price_venue_state", { venue: "coinbase", state: "live" })).toBe(0);
    expect(sampleValue(text, "tap_price_venue_reconnects_total", { venue: "coinbase" })).toBe(3);
    expect(sampleValue(text, "tap_price_venue_quote_age_seconds", { venue: "kraken" })).toBe(0.12);

    stats.published = 11;
    report = { ...report, status: "ok", venues: { ...report.venues, coinbase: { state: "live", age_ms: 90, reconnects: 3, dropped: 5, gaps: 0 } } };
    text = await scrape();
    expect(sampleValue(text, "tap_price_ticks_published_total")).toBe(11);
    expect(sampleValue(text, "tap_price_venue_state", { venue: "coinbase", state: "live" })).toBe(1);
    expect(sampleValue(text, "tap_price_status", { status: "degraded" })).toBe(0);
  } finally {
    await health.stop();
  }
});
