import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../common/log.ts";
import { createCompositeIndex } from "../index/mod.ts";
import type { RecordLine } from "./format.ts";
import { createRecorder, type RecorderOptions, recordComputes } from "./recorder.ts";

const T = Date.UTC(2026, 11, 2, 5, 36, 16, 123);
const index = { venues: ["coinbase", "kraken"] as ("coinbase" | "kraken")[], staleMs: 2000, maxDeviationBps: 50, minVenues: 2 };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(overrides: Partial<RecorderOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tap-recorder-"));
  dirs.push(dir);
  const logs: { level: number; msg: string }[] = [];
  const log = createLogger({ component: "price", level: "debug", sink: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  let clock = T;
  const recorder = createRecorder({ dir: join(dir, "rec"), maxBytes: 64 * 1024, maxFiles: 24, intervalMs: 1000, index, log, now: () => clock, ...overrides });
  return { dir: join(dir, "rec"), recorder, logs, advance: (ms: number) => (clock += ms) };
}

const files = (dir: string) => readdirSync(dir).filter((name) => name.endsWith(".ndjson")).sort();
const read = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordLine);

describe("createRecorder", () => {
  test("one line per open, frame, computation and tick, after a start line, in a file named for its first line's time; written out on close", async () => {
    const { dir, recorder } = setup();
    recorder.open("kraken", T + 1);
    recorder.frame("kraken", '{"channel":"heartbeat"}', T + 2);
    recorder.index(T + 1003, { price: undefined, reason: "no quorum", fresh: 1, usable: 1 });
    recorder.tick({ symbol: "BTC-USD", price: 42_000.5, ts: T + 1000, seq: 7, source: "venues", venues: 2, dispersion_bps: 1.5 });
    await recorder.close();
    recorder.frame("kraken", "after close", T + 5); // dropped, not thrown
    expect(files(dir)).toEqual(["price-20261202T053616.124Z.ndjson"]);
    expect(read(join(dir, "price-20261202T053616.124Z.ndjson"))).toEqual([
      { t: "start", at: T + 1, run: new Date(T).toISOString(), part: 0, intervalMs: 1000, index },
      { t: "open", venue: "kraken", at: T + 1 },
      { t: "frame", venue: "kraken", at: T + 2, text: '{"channel":"heartbeat"}' },
      { t: "index", at: T + 1003, result: { reason: "no quorum", fresh: 1, usable: 1 } as never },
      { t: "tick", symbol: "BTC-USD", price: 42_000.5, ts: T + 1000, seq: 7, source: "venues", venues: 2, dispersion_bps: 1.5, at: T + 1000 },
    ]);
    expect(recorder.stats()).toMatchObject({ lines: 5, files: 1, failures: 0 });
  });

  test("a file past maxBytes is closed and the next begun with its own start line; no file grows past the limit", async () => {
    const { dir, recorder } = setup({ maxBytes: 1000 });
    const text = "x".repeat(150);
    for (let i = 0; i < 40; i++) recorder.frame("coinbase", text, T + i); // same millisecond names are taken one apart
    await recorder.close();
    const names = files(dir);
    expect(names.length).toBeGreaterThan(5);
    const all = names.map((name) => read(join(dir, name)));
    all.forEach((lines, part) => {
      expect(lines[0]).toMatchObject({ t: "start", part, run: new Date(T).toISOString() });
      expect(statSync(join(dir, names[part] as string)).size).toBeLessThanOrEqual(1000);
    });
    expect(all.flat().filter((line) => line.t === "frame").map((line) => line.at)).toEqual(Array.from({ length: 40 }, (_, i) => T + i));
  });

  test("only the newest maxFiles recordings are kept; other files are left alone", async () => {
    const { dir, recorder } = setup({ maxBytes: 600, maxFiles: 3 });
    recorder.frame("coinbase", "first", T);
    await Bun.sleep(0);
    writeFileSync(join(dir, "notes.txt"), "mine");
    for (let i = 1; i < 60; i++) recorder.frame("coinbase", "y".repeat(120), T + i * 10);
    await recorder.close();
    const names = files(dir);
    expect(names).toHaveLength(3);
    expect(readdirSync(dir)).toContain("notes.txt");
    // The last frame is in the newest file, the first one is gone.
    const kept = names.flatMap((name) => read(join(dir, name)));
    expect(kept.at(-1)).toMatchObject({ t: "frame", at: T + 590 });
    expect(kept.some((line) => line.t === "frame" && line.text === "first")).toBe(false);
    expect(recorder.stats().files).toBeGreaterThan(3);
  });

  test("a write that fails does not throw: the line is lost, the failure counted and logged once", async () => {
    const { recorder, logs } = setup({
      openSink: () => ({
        write() {
          throw new Error("ENOSPC: no space left on device");
        },
        flush() {},
        end() {},
      }),
    });
    expect(() => {
      recorder.frame("coinbase", "a", T);
      recorder.tick({ symbol: "BTC-USD", price: 1, ts: T, seq: 1 });
      recorder.index(T, { price: undefined, reason: "no quorum", fresh: 0, usable: 0 });
    }).not.toThrow();
    await recorder.close();
    expect(recorder.stats().failures).toBeGreaterThanOrEqual(3);
    expect(logs.filter((line) => line.msg.includes("recording: a write failed"))).toHaveLength(1);
  });

  test("a disk that is full when flushed, or a directory that cannot be made: nothing thrown, ticks go on", async () => {
    const full = setup({ openSink: () => Bun.file("/dev/full").writer(), flushEveryMs: 10 });
    full.recorder.frame("coinbase", "a".repeat(100), T);
    full.recorder.flush();
    await Bun.sleep(30);
    await full.recorder.close();
    expect(full.recorder.stats().failures).toBeGreaterThanOrEqual(1);

    const base = mkdtempSync(join(tmpdir(), "tap-recorder-"));
    dirs.push(base);
    writeFileSync(join(base, "a-file"), "");
    const blocked = setup({ dir: join(base, "a-file", "rec") });
    const computes = recordComputes(createCompositeIndex({ venues: ["coinbase", "kraken"], minVenues: 1 }), blocked.recorder);
    expect(() => computes.compute(T)).not.toThrow();
    expect(computes.compute(T + 1)).toMatchObject({ reason: "no quorum" });
    await blocked.recorder.close();
    expect(blocked.recorder.stats()).toMatchObject({ lines: 0, files: 0 });
    expect(blocked.logs.some((line) => line.msg.includes("recording: opening a file failed"))).toBe(true);
  });
});

describe("recordComputes", () => {
  test("records each computation, quorum or not, at the time it was made, and returns it unchanged", async () => {
    const { dir, recorder } = setup();
    const live = createCompositeIndex({ venues: ["coinbase", "kraken"] });
    live.observe({ venue: "coinbase", bid: 100, ask: 100.02, receivedAt: T });
    const computes = recordComputes(live, recorder, () => T + 500);
    const none = computes.compute();
    live.observe({ venue: "kraken", last: 100.03, receivedAt: T + 600 });
    const some = computes.compute(T + 1000);
    await recorder.close();
    expect(none.price).toBeUndefined();
    expect(some).toMatchObject({ price: 100.02, venues: 2 });
    const name = files(dir)[0] as string;
    expect(read(join(dir, name)).filter((line) => line.t === "index")).toEqual([
      { t: "index", at: T + 500, result: JSON.parse(JSON.stringify(none)) },
      { t: "index", at: T + 1000, result: JSON.parse(JSON.stringify(some)) },
    ]);
  });
});
