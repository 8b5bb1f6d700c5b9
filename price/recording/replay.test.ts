import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayCommand } from "../replay.ts";
import type { RecordLine } from "./format.ts";
import { createReplay } from "./replay.ts";

const T = 1_764_000_000_000;
const dir = mkdtempSync(join(tmpdir(), "tap-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Coinbase's ticker; each on one connection has a newer `sequence` (an older one is dropped as out of order). */
const coinbaseTicker = (sequence: number, bid: string, ask: string) =>
  JSON.stringify({ type: "ticker", sequence, product_id: "BTC-USD", price: bid, best_bid: bid, best_ask: ask, side: "buy", time: "2025-11-24T16:00:00.000Z", trade_id: sequence, last_size: "0.1" });
const bitfinexTicker = (chanId: number, bid: number, ask: number) => JSON.stringify([chanId, [bid, 1, ask, 1, 0, 0, bid, 100, ask, bid]]);
const subscribed = (chanId: number) => JSON.stringify({ event: "subscribed", channel: "ticker", chanId, symbol: "tBTCUSD", pair: "BTCUSD" });

/**
 * Two venues; Bitfinex reconnects between the ticks and gets a new channel id.
 * Mids: Coinbase 64,210.285; Bitfinex 64,211.5, then 64,213.5.
 */
function handMade(): RecordLine[] {
  return [
    { t: "start", at: T, run: new Date(T).toISOString(), part: 0, intervalMs: 1000, index: { venues: ["coinbase", "bitfinex"], staleMs: 2000, maxDeviationBps: 50, minVenues: 2 } },
    { t: "open", venue: "coinbase", at: T + 1 },
    { t: "open", venue: "bitfinex", at: T + 1 },
    { t: "frame", venue: "bitfinex", at: T + 5, text: JSON.stringify({ event: "info", version: 2, platform: { status: 1 } }) },
    { t: "frame", venue: "bitfinex", at: T + 6, text: subscribed(7) },
    { t: "frame", venue: "coinbase", at: T + 10, text: coinbaseTicker(1, "64210.01", "64210.56") },
    { t: "frame", venue: "bitfinex", at: T + 12, text: bitfinexTicker(7, 64211, 64212) },
    { t: "frame", venue: "coinbase", at: T + 20, text: "not json" },
    { t: "index", at: T + 1001, result: { price: 64210.89, venues: 2, used: ["coinbase", "bitfinex"], dispersion_bps: 0.19, excluded: [] } },
    // Received in the same millisecond as the computation, but after it: not in it.
    { t: "frame", venue: "coinbase", at: T + 1001, text: coinbaseTicker(2, "64500.00", "64500.02") },
    { t: "tick", at: T + 1000, symbol: "BTC-USD", price: 64210.89, ts: T + 1000, seq: 41, source: "venues", venues: 2, dispersion_bps: 0.19 },
    { t: "frame", venue: "coinbase", at: T + 1010, text: coinbaseTicker(3, "64210.01", "64210.56") },
    // A new Bitfinex connection: channel 7 means nothing on it until it is subscribed again (read as a quote, 70,000.5 would leave no quorum).
    { t: "open", venue: "bitfinex", at: T + 1500 },
    { t: "frame", venue: "bitfinex", at: T + 1501, text: bitfinexTicker(7, 70000, 70001) },
    { t: "frame", venue: "bitfinex", at: T + 1502, text: subscribed(9) },
    // Bitfinex's quote of T + 12 is still fresh (1,990 ms old).
    { t: "index", at: T + 2002, result: { price: 64210.89, venues: 2, used: ["coinbase", "bitfinex"], dispersion_bps: 0.19, excluded: [] } },
    { t: "tick", at: T + 2000, symbol: "BTC-USD", price: 64210.89, ts: T + 2000, seq: 42, source: "venues", venues: 2, dispersion_bps: 0.19 },
    { t: "frame", venue: "bitfinex", at: T + 2500, text: bitfinexTicker(9, 64213, 64214) },
    { t: "index", at: T + 3000, result: { price: 64211.89, venues: 2, used: ["coinbase", "bitfinex"], dispersion_bps: 0.5, excluded: [] } },
    { t: "tick", at: T + 3000, symbol: "BTC-USD", price: 64211.89, ts: T + 3000, seq: 43, source: "venues", venues: 2, dispersion_bps: 0.5 },
    // Everything stale: no quorum, no tick.
    { t: "index", at: T + 9000, result: { price: undefined, reason: "no quorum", fresh: 0, usable: 0 } },
  ];
}

function write(name: string, lines: RecordLine[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
  return path;
}

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await replayCommand(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.map((line) => JSON.parse(line) as Record<string, unknown>), err };
}

describe("createReplay", () => {
  test("a hand-made recording gives back its ticks: the frames before each computation, at its time, one protocol per connection", () => {
    const replay = createReplay();
    const ticks = handMade().flatMap((line) => replay.feed(line));
    expect(ticks.map(({ ts, seq, price, venues, dispersion_bps, same }) => ({ ts, seq, price, venues, dispersion_bps, same }))).toEqual([
      { ts: T + 1000, seq: 41, price: 64210.89, venues: 2, dispersion_bps: 0.19, same: true },
      { ts: T + 2000, seq: 42, price: 64210.89, venues: 2, dispersion_bps: 0.19, same: true },
      { ts: T + 3000, seq: 43, price: 64211.89, venues: 2, dispersion_bps: 0.5, same: true },
    ]);
    expect(replay.summary()).toEqual({ t: "summary", frames: 10, opens: 3, computes: 4, computes_differ: 0, ticks: 3, ticks_differ: 0, identical: true });
  });

  test("a tick with no computation before it is not rebuilt from an earlier one", () => {
    const lines = handMade().filter((line) => !(line.t === "index" && line.at === T + 3000));
    const replay = createReplay();
    const ticks = lines.flatMap((line) => replay.feed(line));
    expect(ticks[2]).toMatchObject({ seq: 43, price: undefined, same: false });
    expect(replay.summary().identical).toBe(false);
  });
});

describe("price replay <file...>", () => {
  test("exit 0 and the rebuilt ticks, then a summary, as NDJSON", async () => {
    const { code, out } = await run([write("good.ndjson", handMade())]);
    expect(code).toBe(0);
    expect(out.map((line) => line.t)).toEqual(["tick", "tick", "tick", "summary"]);
    expect(out[2]).toMatchObject({ t: "tick", symbol: "BTC-USD", ts: T + 3000, seq: 43, price: 64211.89, venues: 2, dispersion_bps: 0.5, same: true });
    expect(out[3]).toMatchObject({ ticks: 3, ticks_differ: 0, identical: true });
  });

  test("a file split in two parts is put back in order, whatever the order given", async () => {
    const lines = handMade();
    const start = lines[0] as Extract<RecordLine, { t: "start" }>;
    const cut = lines.findIndex((line) => line.t === "tick");
    const first = write("part0.ndjson", lines.slice(0, cut));
    const second = write("part1.ndjson", [{ ...start, at: T + 1000, part: 1 }, ...lines.slice(cut)]);
    const { code, out } = await run([second, first]);
    expect(code).toBe(0);
    expect(out.at(-1)).toMatchObject({ ticks: 3, identical: true });
  });

  test("a tampered tick: exit 1, and the difference said", async () => {
    const lines = handMade().map((line) => (line.t === "tick" && line.seq === 42 ? { ...line, price: 64210.9 } : line));
    const { code, out, err } = await run([write("tampered-tick.ndjson", lines)]);
    expect(code).toBe(1);
    expect(out[1]).toMatchObject({ seq: 42, price: 64210.89, same: false, recorded: { price: 64210.9 } });
    expect(out.at(-1)).toMatchObject({ ticks_differ: 1, identical: false });
    expect(err.join("\n")).toContain("tick seq 42");
  });

  test("a tampered frame: exit 1", async () => {
    const lines = handMade().map((line) => (line.t === "frame" && line.at === T + 2500 ? { ...line, text: bitfinexTicker(9, 64215, 64216) } : line));
    const { code, out } = await run([write("tampered-frame.ndjson", lines)]);
    expect(code).toBe(1);
    expect(out.at(-1)).toMatchObject({ ticks_differ: 1, computes_differ: 1 });
  });

  test("bad usage or a file that is not a recording: exit 2", async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(["--help"])).code).toBe(2);
    expect((await run([join(dir, "missing.ndjson")])).code).toBe(2);
    const notRecording = join(dir, "not-recording.ndjson");
    writeFileSync(notRecording, '{"hello":1}\n');
    expect((await run([notRecording])).code).toBe(2);
    const noStart = write("no-start.ndjson", handMade().slice(1));
    const result = await run([noStart]);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toContain("start line");
  });
});
