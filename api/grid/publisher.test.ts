import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { createMemoryBus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import { CompactGrid, type Grid } from "../../common/contracts/grid.ts";
import { expandGrid } from "../../common/grid-codec.ts";
import { createLogger } from "../../common/log.ts";
import { waitFor } from "../../test/support/wait.ts";
import type { Market } from "../market/market.ts";
import { defaultGridSettings } from "./build-grid.ts";
import { createGridService, type GridService } from "./grid-service.ts";
import { GRID_PUBLISH_PHASE_MS, msUntilNextPublish, startGridPublisher } from "./publisher.ts";

const NOW = 1_767_225_603_500;

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "api", level: "debug", sink: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { log, lines };
}

async function published(grid: Pick<GridService, "current">) {
  const bus = createMemoryBus();
  const messages: string[] = [];
  await bus.subscribe(Channels.grid, (raw) => void messages.push(raw));
  const { log, lines } = capturingLog();
  const publisher = startGridPublisher({ grid: grid as GridService, bus, log, everyMs: 10, now: () => NOW });
  return { messages, lines, [Symbol.dispose]: () => publisher.stop() };
}

describe("msUntilNextPublish", () => {
  test("waits for the next whole second plus the phase: half a second away from the ticks, which fall on the second", () => {
    const second = 1_767_225_600_000;
    expect(GRID_PUBLISH_PHASE_MS).toBe(500);
    expect([0, 200, 499, 500, 501, 999].map((ms) => msUntilNextPublish(second + ms, 1000, 500))).toEqual([500, 300, 1, 1000, 999, 501]);
    expect(msUntilNextPublish(second + 200, 1000, 0)).toBe(800);
    expect(msUntilNextPublish(second, 1000, 0)).toBe(1000);
    // A phase past the period, or a clock before the epoch, still lands in (0, everyMs].
    expect(msUntilNextPublish(second + 200, 1000, 1500)).toBe(300);
    expect(msUntilNextPublish(-300, 1000, 500)).toBe(800);
  });
});

describe("startGridPublisher", () => {
  test("publishes the current grid compact, and it expands to the grid GET /api/grid serves", async () => {
    const market = { fresh: () => ({ symbol: "BTC-USD" as const, price: 87_415.3, ts: NOW - 40 }), sigma: () => 0.0004 } as unknown as Market;
    const grid = createGridService({ market, settings: defaultGridSettings });
    using run = await published(grid);
    await waitFor("a grid on the channel", () => run.messages.length > 0);
    const compact = JSON.parse(run.messages[0]!) as CompactGrid;
    expect([...Value.Errors(CompactGrid, compact)]).toEqual([]);
    expect(expandGrid(compact)).toEqual(grid.current(NOW)!);
    expect(compact.columns * compact.bands).toBe(252);
  });

  test("a grid it cannot compact is warned about and not published, and the publisher carries on", async () => {
    const cell = { t_start: NOW + 5000, t_end: NOW + 10_000, price_low: 100, price_high: 110, multiplier: 2, rtp: 0.95, offered: true, locked: false };
    const grid: Grid = { ts: NOW, price: 105, price_ts: NOW, sigma: 0.0004, quote_id: "q", expires_at: NOW + 1000, column_ms: 5000, band: 10, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9, cells: [cell, cell] };
    let calls = 0;
    using run = await published({ current: () => (calls++, grid) });
    await waitFor("two tries", () => calls >= 2);
    expect(run.messages).toEqual([]);
    expect(run.lines.some((line) => line.msg === "could not publish the grid" && String(line.err).includes("out of order or repeated"))).toBe(true);
  });
});
