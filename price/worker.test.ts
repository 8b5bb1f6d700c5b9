import { describe, expect, test } from "bun:test";
import type { BusTick } from "../common/contracts/price.ts";
import { createLogger } from "../common/log.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import type { TickStore } from "../common/prices/tick-store.ts";
import { waitFor } from "../test/support/wait.ts";
import type { Clock } from "./clock.ts";
import type { PriceSource } from "./sources/mod.ts";
import { type PriceWorkerOptions, startPriceWorker } from "./worker.ts";

/** A clock that moves only when told, firing due timers in order. */
function manualClock(start: number) {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  const fireDue = async (until: number, lateBy = 0) => {
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      timers = timers.filter((t) => t !== due);
      now = Math.max(now, due.at + lateBy);
      due.fn();
      await Bun.sleep(0); // let the tick's promises settle
    }
  };
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    /** Moves time forward by `ms`, firing each timer on time. */
    async advance(ms: number) {
      const target = now + ms;
      await fireDue(target);
      now = target;
      await Bun.sleep(0);
    },
    /** Moves time forward by `ms` at once, as a stalled event loop would, then fires what is due, late. */
    async stall(ms: number) {
      now += ms;
      await fireDue(now);
    },
    pending: () => timers.length,
  } satisfies Clock & Record<string, unknown>;
}

/** The price source 100, 101, 102, ... */
function countingSource(): PriceSource & { calls: number } {
  const source = {
    kind: "mock" as const,
    calls: 0,
    async sample() {
      return 100 + source.calls++;
    },
    async close() {},
  };
  return source;
}

/** An in-memory `TickStore` publisher; `failNext` makes the next publish throw (nothing stored). */
function memoryTickStore() {
  const published: BusTick[] = [];
  let failures = 0;
  let calls = 0;
  let hold: Promise<void> | undefined;
  const store = {
    published,
    failNext(count = 1) {
      failures += count;
    },
    /** The next publish waits until the returned function is called. */
    holdNext() {
      let release = () => {};
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => release();
    },
    get calls() {
      return calls;
    },
    async publish(tick: BusTick) {
      calls++;
      const waiting = hold;
      hold = undefined;
      if (waiting) await waiting;
      if (failures > 0) {
        failures--;
        throw new Error("redis says no");
      }
      published.push(tick);
    },
  } satisfies Pick<TickStore, "publish"> & Record<string, unknown>;
  return store;
}

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "price", level: "debug", sink: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { log, lines, messages: (msg: string) => lines.filter((l) => l.msg === msg) };
}

async function setUp(overrides: Partial<PriceWorkerOptions> = {}, start = 1_000_250, firstSeq: number | null = 1) {
  const clock = manualClock(start);
  const ticks = memoryTickStore();
  const heard = ticks.published;
  const source = countingSource();
  const { log, lines, messages } = capturedLog();
  const worker = startPriceWorker({ source, ticks, intervalMs: 1000, log, clock, ...(firstSeq === null ? {} : { firstSeq }), ...overrides });
  return { clock, heard, ticks, source, worker, lines, messages };
}

describe("price worker", () => {
  test("publishes one numbered tick per interval, on the interval grid", async () => {
    const { clock, heard, worker } = await setUp({ firstSeq: 41 });
    await clock.advance(700);
    expect(heard).toEqual([]); // the first tick waits for the next whole second
    await clock.advance(3000);
    const expected: BusTick[] = [
      { symbol: "BTC-USD", price: 100, ts: 1_001_000, seq: 41, source: "mock" },
      { symbol: "BTC-USD", price: 101, ts: 1_002_000, seq: 42, source: "mock" },
      { symbol: "BTC-USD", price: 102, ts: 1_003_000, seq: 43, source: "mock" },
    ];
    expect(heard).toEqual(expected);
    expect(worker.stats()).toMatchObject({ ticks: 3, published: 3, failed: 0, last: expected[2] });
    await worker.stop();
  });

  test("a tick says where its price came from: the source's kind, and what it describes (the venues' count and spread)", async () => {
    const source: PriceSource = {
      kind: "venues",
      sample: async () => 42_000.25,
      describe: () => ({ venues: 3, dispersion_bps: 1.25 }),
      async close() {},
    };
    const { clock, heard, worker } = await setUp({ source }, 1_000_000);
    await clock.advance(1000);
    expect(heard).toEqual([{ symbol: "BTC-USD", price: 42_000.25, ts: 1_001_000, seq: 1, source: "venues", venues: 3, dispersion_bps: 1.25 }]);
    await worker.stop();
  });

  test("without a stored tick to continue, the numbering starts at the first tick's time", async () => {
    const { clock, heard, worker } = await setUp({}, 1_000_000, null);
    await clock.advance(2000);
    expect(heard.map((t) => t.seq)).toEqual([1_001_000, 1_001_001]);
    await worker.stop();
  });

  test("signs each tick so that the key's holder can check it, and a changed field fails the check", async () => {
    const signer = createTickSigner("k".repeat(32));
    const { clock, heard, worker } = await setUp({ sign: signer.sign }, 1_000_000);
    await clock.advance(2000);
    expect(heard.map((t) => signer.verify(t))).toEqual([true, true]);
    const first = heard[0] as BusTick;
    for (const forged of [{ ...first, price: first.price + 0.01 }, { ...first, ts: first.ts + 1 }, { ...first, seq: 9 }]) expect(signer.verify(forged)).toBe(false);
    expect(createTickSigner("x".repeat(32)).verify(first)).toBe(false);
    await worker.stop();
  });

  test("a stalled event loop does not shift the grid: missed slots are skipped, not made up", async () => {
    const { clock, heard, worker, messages } = await setUp({}, 1_000_000);
    await clock.stall(3500); // the 1_001_000 timer fires at 1_003_500
    expect(heard.map((t) => t.ts)).toEqual([1_003_000]);
    expect(worker.stats().skipped.late).toBe(2);
    expect(messages("skipping ticks")[0]).toMatchObject({ reason: "late", count: 2 });
    await clock.advance(2000);
    expect(heard.map((t) => t.ts)).toEqual([1_003_000, 1_004_000, 1_005_000]);
    await worker.stop();
  });

  test("a slow publish skips ticks instead of queueing them", async () => {
    const ticks = memoryTickStore();
    const release = ticks.holdNext();
    const { clock, worker } = await setUp({ ticks }, 1_000_000);
    await clock.advance(5000);
    expect(ticks.calls).toBe(1); // ticks 2 to 5 came while the first was in flight
    expect(worker.stats().skipped.busy).toBe(4);
    release();
    await Bun.sleep(0);
    await clock.advance(1000);
    expect(ticks.calls).toBe(2);
    expect(ticks.published.map((t) => [t.ts, t.seq])).toEqual([
      [1_001_000, 1],
      [1_006_000, 2],
    ]);
    await worker.stop();
  });

  test("a failed publish is logged, its number is used up, and the loop goes on", async () => {
    const { clock, ticks, worker, messages } = await setUp({}, 1_000_000);
    await clock.advance(1000);
    ticks.failNext();
    await clock.advance(3000);
    expect(worker.stats()).toMatchObject({ ticks: 4, published: 3, failed: 1 });
    expect(messages("tick not published")).toEqual([expect.objectContaining({ level: "warn", ts: 1_002_000, seq: 2, err: "redis says no" })]);
    expect(ticks.published.map((t) => t.seq)).toEqual([1, 3, 4]);
    await worker.stop();
  });

  test("a publish that throws synchronously does not stop the loop either", async () => {
    const ticks = {
      publish(): Promise<void> {
        throw new Error("sync boom");
      },
    };
    const { clock, worker } = await setUp({ ticks }, 1_000_000);
    await clock.advance(3000);
    expect(worker.stats()).toMatchObject({ ticks: 3, published: 0, failed: 3 });
    await worker.stop();
  });

  test("while disconnected, ticks are skipped (not queued) and resume after", async () => {
    let connected = true;
    const { clock, heard, ticks, source, worker, messages } = await setUp({ isConnected: () => connected }, 1_000_000);
    await clock.advance(1000);
    connected = false;
    await clock.advance(4000);
    expect(heard).toHaveLength(1);
    expect(source.calls).toBe(1); // nothing was even sampled for later
    connected = true;
    await clock.advance(1000);
    expect(heard.map((t) => [t.ts, t.seq])).toEqual([
      [1_001_000, 1],
      [1_006_000, 2],
    ]);
    expect(worker.stats().skipped.disconnected).toBe(4);
    expect(messages("skipping ticks")).toEqual([expect.objectContaining({ level: "warn", reason: "disconnected" })]);
    expect(messages("ticks resumed")).toEqual([expect.objectContaining({ level: "info", reason: "disconnected", skipped: 4 })]);
    await worker.stop();
  });

  test("a source with no price, or a failing one, skips that tick only", async () => {
    const answers: (number | undefined | Error)[] = [undefined, new Error("feed down"), 42_000.5];
    const source: PriceSource = {
      kind: "mock",
      async sample() {
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return answer;
      },
      async close() {},
    };
    const { clock, heard, worker, messages } = await setUp({ source }, 1_000_000);
    await clock.advance(3000);
    expect(heard).toEqual([{ symbol: "BTC-USD", price: 42_000.5, ts: 1_003_000, seq: 1, source: "mock" }]);
    expect(worker.stats().skipped["no-price"]).toBe(2);
    expect(messages("price source failed")).toHaveLength(1);
    await worker.stop();
  });

  test("logs each tick at debug and a summary of the slots before at info every summaryMs", async () => {
    const { clock, worker, messages } = await setUp({ summaryMs: 3000 }, 1_000_000);
    await clock.advance(6000);
    expect(messages("tick")).toHaveLength(6);
    expect(messages("tick")[0]).toMatchObject({ level: "debug", price: 100, ts: 1_001_000 });
    // At 1_003_000 (ticks 1_001_000 and 1_002_000) and at 1_006_000 (the three before it).
    expect(messages("price summary")).toEqual([
      expect.objectContaining({ level: "info", ticks: 2, price: 101, low: 100, high: 101, failed: 0, skipped: 0 }),
      expect.objectContaining({ level: "info", ticks: 3, price: 104, low: 102, high: 104 }),
    ]);
    await worker.stop();
  });

  test("stop() waits for the tick in flight, then no timer is left and nothing more is sent", async () => {
    const ticks = memoryTickStore();
    const release = ticks.holdNext();
    const { clock, worker, messages } = await setUp({ ticks }, 1_000_000);
    await clock.advance(1000);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await Bun.sleep(5);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(clock.pending()).toBe(0);
    await clock.advance(5000);
    expect(ticks.calls).toBe(1);
    expect(messages("price worker stopped")).toHaveLength(1);
  });

  test("runs on the real clock: ticks about every interval, on the grid", async () => {
    const ticks = memoryTickStore();
    const heard = ticks.published;
    const worker = startPriceWorker({ source: countingSource(), ticks, intervalMs: 20, log: capturedLog().log });
    await waitFor("five ticks", () => heard.length >= 5);
    await worker.stop();
    const count = heard.length;
    for (const tick of heard) expect(tick.ts % 20).toBe(0);
    for (let i = 1; i < heard.length; i++) expect((heard[i] as BusTick).ts).toBeGreaterThan((heard[i - 1] as BusTick).ts);
    expect(Math.abs((heard.at(-1) as BusTick).ts - Date.now())).toBeLessThan(1000);
    await Bun.sleep(60);
    expect(heard).toHaveLength(count);
  });
});
