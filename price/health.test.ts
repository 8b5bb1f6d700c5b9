import { expect, test } from "bun:test";
import { createLogger } from "../common/log.ts";
import { type PriceHealth, startPriceHealth } from "./health.ts";

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
