import { describe, expect, test } from "bun:test";
import { createMemoryBus } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import { createLogger } from "../common/log.ts";
import { waitFor } from "../test/support/wait.ts";
import type { BusTick } from "../common/contracts/price.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { Value } from "@sinclair/typebox/value";
import { type Grid, GridMessage } from "../common/contracts/grid.ts";
import { compactGrid, expandGrid } from "../common/grid-codec.ts";
import { type PriceBridgeOptions, priceMessage, startBetEventBridge, startGridBridge, startPriceBridge } from "./bridge.ts";

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    component: "ws",
    level: "debug",
    sink: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { log, lines };
}

async function setUp(now = () => 5_000, options: Pick<PriceBridgeOptions, "history" | "signer"> = {}) {
  const bus = createMemoryBus();
  const published: [string, string][] = [];
  const { log, lines } = capturingLog();
  const bridge = await startPriceBridge({ bus, publish: (topic, message) => published.push([topic, message]), log, now, ...options });
  return { bus, bridge, published, lines };
}

/** A stored history the test writes, as the price service does before publishing. */
function memoryHistory() {
  const stored: BusTick[] = [];
  return {
    stored,
    async history(after: number, to: number, limit: number) {
      return stored.filter((t) => t.ts > after && t.ts <= to).slice(0, limit).map((t) => JSON.stringify(t));
    },
  };
}

describe("price bridge", () => {
  test("publishes a JSON tick once, serialised, to the prices topic with the tick's own time", async () => {
    const { bus, bridge, published } = await setUp();
    await bus.publish(Channels.priceTicks, JSON.stringify({ symbol: "BTC-USD", price: 42000.5, ts: 1_700_000_000_123 }));
    await waitFor("a publish", () => published.length === 1);
    expect(published[0]).toEqual(["prices", '{"type":"price","symbol":"BTC-USD","price":42000.5,"ts":1700000000123}']);
    expect(bridge.latest()).toEqual({ symbol: "BTC-USD", price: 42000.5, ts: 1_700_000_000_123 });
    expect(bridge.stats()).toEqual({ ticks_published: 1, ticks_recovered: 0, ticks_dropped: 0 });
  });

  test("a tick's source and venue count reach the page; its signature and sequence number do not", async () => {
    const { bus, published } = await setUp();
    await bus.publish(Channels.priceTicks, JSON.stringify({ symbol: "BTC-USD", price: 42000.5, ts: 1_000, seq: 7, source: "venues", venues: 3, dispersion_bps: 1.2 }));
    await bus.publish(Channels.priceTicks, JSON.stringify({ symbol: "BTC-USD", price: 42001, ts: 2_000, seq: 8, source: "mock" }));
    await waitFor("two publishes", () => published.length === 2);
    expect(published.map(([, message]) => message)).toEqual([
      '{"type":"price","symbol":"BTC-USD","price":42000.5,"ts":1000,"source":"venues","venues":3}',
      '{"type":"price","symbol":"BTC-USD","price":42001,"ts":2000,"source":"mock"}',
    ]);
    expect(priceMessage({ symbol: "BTC-USD", price: 1, ts: 2 })).toBe('{"type":"price","symbol":"BTC-USD","price":1,"ts":2}');
  });

  test("stamps a plain price string with the time it was received", async () => {
    const { bus, published } = await setUp(() => 1234);
    await bus.publish(Channels.priceTicks, "42012.34");
    await waitFor("a publish", () => published.length === 1);
    expect(JSON.parse(published[0]![1])).toEqual({ type: "price", symbol: "BTC-USD", price: 42012.34, ts: 1234 });
  });

  test("drops, counts and warns about anything else, and keeps delivering", async () => {
    const { bus, bridge, published, lines } = await setUp();
    for (const garbage of ["hello", "{not json", '{"price":"x","ts":1}', "-5", ""]) await bus.publish(Channels.priceTicks, garbage);
    await bus.publish(Channels.priceTicks, "100.5");
    await waitFor("the good tick", () => published.length === 1);
    expect(bridge.stats()).toEqual({ ticks_published: 1, ticks_recovered: 0, ticks_dropped: 5 });
    const warnings = lines.filter((line) => line.level === "warn");
    // One warning per second at most: the first bad message is reported with a sample.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ msg: "dropped a price message that is not a valid tick", sample: "hello", dropped_total: 1 });
  });

  test("warns again after the quiet period, with the count dropped in between", async () => {
    let now = 0;
    const { bus, lines } = await setUp(() => now);
    await bus.publish(Channels.priceTicks, "bad-1");
    await bus.publish(Channels.priceTicks, "bad-2");
    await waitFor("first warning", () => lines.some((line) => line.level === "warn"));
    now = 1000;
    await bus.publish(Channels.priceTicks, "bad-3");
    await waitFor("second warning", () => lines.filter((line) => line.level === "warn").length === 2);
    expect(lines.filter((line) => line.level === "warn").at(-1)).toMatchObject({ dropped: 2, dropped_total: 3, sample: "bad-3" });
  });

  test("a tick the channel skipped is read back from the history and sent first, each tick once", async () => {
    const history = memoryHistory();
    const { bus, bridge, published } = await setUp(() => 5_000, { history });
    const tick = (seq: number): BusTick => ({ symbol: "BTC-USD", price: 42_000 + seq, ts: seq * 100, seq });
    const publishTick = async (t: BusTick) => {
      history.stored.push(t);
      await bus.publish(Channels.priceTicks, JSON.stringify(t));
    };
    await publishTick(tick(1));
    history.stored.push(tick(2), tick(3)); // published while this process was not subscribed
    await publishTick(tick(4));
    await bus.publish(Channels.priceTicks, JSON.stringify(tick(4))); // heard twice
    await waitFor("four ticks", () => published.length === 4);
    await Bun.sleep(10);
    expect(published.map(([, m]) => JSON.parse(m).ts)).toEqual([100, 200, 300, 400]);
    expect(bridge.stats()).toEqual({ ticks_published: 4, ticks_recovered: 2, ticks_dropped: 0 });
  });

  test("with a key, a tick that is not signed by it is dropped: a forged price reaches no client", async () => {
    const signer = createTickSigner("w".repeat(32));
    const { bus, bridge, published } = await setUp(() => 5_000, { signer });
    const tick: BusTick = { symbol: "BTC-USD", price: 42_000, ts: 1000, seq: 1 };
    await bus.publish(Channels.priceTicks, JSON.stringify({ ...tick, sig: signer.sign(tick) }));
    for (const forged of [JSON.stringify({ ...tick, ts: 2000, seq: 2 }), "42105", JSON.stringify({ ...tick, ts: 3000, seq: 3, sig: signer.sign(tick) })]) {
      await bus.publish(Channels.priceTicks, forged);
    }
    await waitFor("the three forgeries counted", () => bridge.stats().ticks_dropped === 3);
    expect(published.map(([, m]) => JSON.parse(m).ts)).toEqual([1000]);
  });

  test("ignores other channels and stops after stop()", async () => {
    const { bus, bridge, published } = await setUp();
    await bus.publish("prices:eth:usd", "100");
    await bridge.stop();
    await bus.publish(Channels.priceTicks, "100");
    await Bun.sleep(10);
    expect(published).toEqual([]);
  });
});

describe("grid bridge", () => {
  const grid = (ts: number): Grid => ({
    ts,
    price: 42005,
    price_ts: ts,
    sigma: 0.0005,
    quote_id: "q",
    expires_at: ts + 1000,
    column_ms: 5000,
    band: 10,
    lock_ms: 2000,
    house_edge: 0.05,
    min_rtp: 0.9,
    cells: [{ t_start: ts, t_end: ts + 5000, price_low: 42000, price_high: 42010, multiplier: 1.5, rtp: 0.94, offered: true, locked: false }],
  });

  // On the bus as the API publishes it: compact.
  const compact = (ts: number) => compactGrid(grid(ts));

  test("a compact grid of the contract goes to the grid topic as a grid message, wrapped once, and is the latest", async () => {
    const bus = createMemoryBus();
    const published: [string, string, number | undefined][] = [];
    const bridge = await startGridBridge({ bus, publish: (topic, message, order) => published.push([topic, message, order]), log: capturingLog().log });
    await bus.publish(Channels.grid, JSON.stringify(compact(1)));
    await waitFor("one publish", () => published.length === 1);
    const [topic, message, order] = published[0]!;
    expect(topic).toBe("grid");
    expect(order).toBe(1);
    expect(Value.Check(GridMessage, JSON.parse(message))).toBe(true);
    expect(JSON.parse(message)).toEqual({ type: "grid", grid: compact(1) });
    expect(expandGrid(JSON.parse(message).grid)).toEqual(grid(1));
    expect(bridge.latest()).toEqual({ message, order: 1 });
    expect(bridge.stats()).toEqual({ grids_published: 1, grids_dropped: 0 });
  });

  test("what is not a compact grid of the contract is dropped, counted and warned about, and the latest grid stays", async () => {
    const bus = createMemoryBus();
    const published: [string, string][] = [];
    const { log, lines } = capturingLog();
    const bridge = await startGridBridge({ bus, publish: (topic, message) => published.push([topic, message]), log });
    await bus.publish(Channels.grid, JSON.stringify(compact(1)));
    const { sigma: _, ...noSigma } = compact(2);
    const bad = [
      "not json",
      "null",
      "{}",
      JSON.stringify(grid(3)), // the full grid: not what the channel carries
      JSON.stringify(noSigma),
      JSON.stringify({ ...compact(4), multipliers: ["1.5"] }),
      JSON.stringify({ ...compact(5), offered: "1x" }),
      JSON.stringify({ ...compact(6), rtp_e4: [9400, 9400] }), // more cells than columns × bands
      JSON.stringify({ ...compact(7), locked: "" }),
    ];
    for (const message of bad) await bus.publish(Channels.grid, message);
    await waitFor("every message read", () => bridge.stats().grids_dropped === bad.length);
    expect(published).toHaveLength(1);
    expect(JSON.parse(bridge.latest()!.message).grid.ts).toBe(1);
    expect(bridge.latest()!.order).toBe(1);
    expect(lines.some((line) => line.msg === "dropped a message that is not a grid")).toBe(true);
  });
});

describe("bet event bridge", () => {
  const event = (betId: string) => ({ type: "bet", bet_id: betId, status: "won", payout: 2.5, balance: 12.5 });

  async function setUpEvents() {
    const bus = createMemoryBus();
    const published: [string, string][] = [];
    const { log, lines } = capturingLog();
    const bridge = await startBetEventBridge({ bus, publish: (topic, message) => published.push([topic, message]), log });
    return { bus, bridge, published, lines };
  }

  test("each event of a batch goes to its own player's topic, in order", async () => {
    const { bus, bridge, published } = await setUpEvents();
    const batch = [
      { player_id: "p1", event: event("b1") },
      { player_id: "p2", event: event("b2") },
      { player_id: "p1", event: event("b3") },
    ];
    await bus.publish(Channels.betEvents, JSON.stringify(batch));
    await waitFor("three publishes", () => published.length === 3);
    expect(published).toEqual(batch.map(({ player_id, event }) => [`player:${player_id}`, JSON.stringify(event)]));
    expect(bridge.stats()).toEqual({ bet_events_relayed: 3, bet_events_dropped: 0 });
  });

  test("a lone envelope is relayed too; malformed ones are dropped, counted and warned about, the rest of their batch still goes", async () => {
    const { bus, bridge, published, lines } = await setUpEvents();
    await bus.publish(Channels.betEvents, JSON.stringify({ player_id: "p1", event: event("b1") }));
    await bus.publish(Channels.betEvents, JSON.stringify([{ player_id: 7, event: event("bad") }, { player_id: "p2", event: event("b2") }]));
    await bus.publish(Channels.betEvents, "not json");
    await bus.publish(Channels.betEvents, "[]");
    await waitFor("two publishes", () => published.length === 2);
    await waitFor("every message read", () => bridge.stats().bet_events_dropped === 3);
    expect(published.map(([topic]) => topic)).toEqual(["player:p1", "player:p2"]);
    expect(bridge.stats()).toEqual({ bet_events_relayed: 2, bet_events_dropped: 3 });
    expect(lines.some((line) => line.msg === "dropped a malformed bet event")).toBe(true);
  });

  test("an envelope whose event is not a bet event of the contract is dropped", async () => {
    const { bus, bridge, published } = await setUpEvents();
    const { balance: _, ...noBalance } = event("b2");
    const bad = [
      { player_id: "p1", event: noBalance },
      { player_id: "p1", event: { ...event("b3"), status: "maybe" } },
      { player_id: "p1", event: { ...event("b4"), payout: "2.5" } },
      { player_id: "p1", event: { ...event("b5"), type: "grid" } },
      { player_id: "p1" },
    ];
    await bus.publish(Channels.betEvents, JSON.stringify([...bad, { player_id: "p1", event: event("b1") }]));
    await waitFor("every envelope read", () => bridge.stats().bet_events_dropped === bad.length);
    expect(published).toEqual([["player:p1", JSON.stringify(event("b1"))]]);
    expect(bridge.stats()).toEqual({ bet_events_relayed: 1, bet_events_dropped: bad.length });
  });
});
