import { describe, expect, test } from "bun:test";
import type { BusTick } from "../contracts/price.ts";
import { createLogger } from "../log.ts";
import { parseBusTick } from "./parse-tick.ts";
import { createTickSigner } from "./tick-signature.ts";
import { type Admission, createTickSequencer, type SequencedTick, type TickSequencerOptions } from "./tick-sequencer.ts";

const tick = (seq: number, price = 42_000, ts = seq * 1000): BusTick => ({ symbol: "BTC-USD", price, ts, seq });
const json = (t: BusTick) => JSON.stringify(t);

/** A stored history the test writes to, and a log it can read. */
function setUp(overrides: Partial<TickSequencerOptions> = {}) {
  const stored: BusTick[] = [];
  const delivered: SequencedTick[] = [];
  const lines: Record<string, unknown>[] = [];
  let failReads = 0;
  let reads = 0;
  const sequencer = createTickSequencer({
    async readHistory(after, to, limit) {
      reads++;
      if (failReads > 0) {
        failReads--;
        throw new Error("redis down");
      }
      return stored.filter((t) => t.ts > after && t.ts <= to).slice(0, limit).map(json);
    },
    accept: (raw, at) => parseBusTick(raw, at),
    deliver: (t) => void delivered.push(t),
    historyFrom: 0,
    log: createLogger({ component: "test", level: "debug", sink: { write: (line: string) => void lines.push(JSON.parse(line)) } }),
    now: () => 1_000_000,
    fillTimeoutMs: 0,
    ...overrides,
  });
  /** Stores a tick, as the publisher does before anybody hears it. */
  const store = (...ticks: BusTick[]) => stored.push(...ticks);
  /** Stores and publishes. */
  const publish = (t: BusTick) => {
    store(t);
    sequencer.push(json(t));
  };
  const seen = () => delivered.map((d) => `${d.tick.seq}${d.continuous ? "" : "!"}${d.recovered ? "r" : ""}`);
  const settled = async () => {
    await sequencer.catchUp("test");
  };
  return {
    sequencer,
    store,
    publish,
    seen,
    settled,
    lines,
    failNextReads: (n: number) => void (failReads += n),
    reads: () => reads,
  };
}

describe("tick sequencer", () => {
  test("delivers live ticks in order at once; the first one follows a break", () => {
    const { publish, seen } = setUp();
    for (let i = 1; i <= 3; i++) publish(tick(i));
    expect(seen()).toEqual(["1!", "2", "3"]);
  });

  test("a missed tick is read back from the history before the next one is delivered", async () => {
    const { store, publish, seen, settled, lines } = setUp();
    publish(tick(1));
    store(tick(2), tick(3)); // published while the subscriber was away
    publish(tick(4));
    await settled();
    expect(seen()).toEqual(["1!", "2r", "3r", "4"]);
    expect(lines.find((l) => l.msg === "recovered ticks from the history")).toMatchObject({ ticks: 2, reason: "gap" });
  });

  test("a tick that cannot be read back leaves a break before the next", async () => {
    const { publish, seen, settled } = setUp();
    publish(tick(1));
    publish(tick(3)); // 2 was published and lost with the history
    await settled();
    expect(seen()).toEqual(["1!", "3!"]);
  });

  test("a history that cannot be read in time is judged a break, and the stream goes on", async () => {
    const { store, publish, seen, settled, failNextReads, lines } = setUp();
    publish(tick(1));
    store(tick(2));
    failNextReads(1);
    publish(tick(3));
    await settled();
    expect(seen()).toEqual(["1!", "3!"]);
    expect(lines.some((l) => l.msg === "could not read the missed ticks back in time; judging a break")).toBe(true);
  });

  test("catchUp delivers what was stored after the last tick, with nothing heard live", async () => {
    const { sequencer, store, publish, seen } = setUp();
    publish(tick(1));
    store(tick(2), tick(3));
    expect(await sequencer.catchUp("clock")).toBe(true);
    expect(seen()).toEqual(["1!", "2r", "3r"]);
  });

  test("catchUp says false when the history cannot be read", async () => {
    const { sequencer, publish, failNextReads } = setUp();
    publish(tick(1));
    failNextReads(1);
    expect(await sequencer.catchUp("clock")).toBe(false);
  });

  test("live ticks heard while the history is read wait, then come after it, each once", async () => {
    const { sequencer, store, publish, seen, settled } = setUp();
    store(tick(1), tick(2));
    const reading = sequencer.catchUp("start");
    publish(tick(3)); // arrives during the read
    publish(tick(2)); // a duplicate of a stored one
    await reading;
    await settled();
    expect(seen()).toEqual(["1!r", "2r", "3"]);
    expect(sequencer.stats()).toMatchObject({ delivered: 3, recovered: 2, old: 1 });
  });

  test("continues from the last tick of an earlier life: the next number follows it, another one is a break", async () => {
    const resumed = setUp({ last: tick(5) });
    resumed.publish(tick(6));
    expect(resumed.seen()).toEqual(["6"]);
    const fresh = setUp({ last: tick(5) });
    fresh.publish(tick(1_000_007, 42_000, 7000)); // a fresh numbering after the history was lost
    await fresh.settled();
    expect(fresh.seen()).toEqual(["1000007!"]);
  });

  test("a tick not newer than the last is dropped and counted", () => {
    const { sequencer, publish, seen } = setUp();
    publish(tick(2));
    sequencer.push(json(tick(2)));
    sequencer.push(json({ ...tick(3), ts: 1500 }));
    expect(seen()).toEqual(["2!"]);
    expect(sequencer.stats().old).toBe(2);
  });

  test("invalid messages are dropped and counted, live or stored", async () => {
    const signer = createTickSigner("k".repeat(32));
    const accept = (raw: string, at: number) => {
      const t = parseBusTick(raw, at);
      return t && signer.verify(t) ? t : undefined;
    };
    const { sequencer, store, seen, settled } = setUp({ accept });
    const signed = (t: BusTick) => ({ ...t, sig: signer.sign(t) });
    sequencer.push(json(signed(tick(1))));
    store(tick(2)); // stored unsigned: forged
    sequencer.push(json(signed(tick(3))));
    sequencer.push("42105");
    sequencer.push(json({ ...signed(tick(4)), price: 1 }));
    await settled();
    expect(seen()).toEqual(["1!", "3!"]);
    expect(sequencer.stats().invalid).toBe(3);
  });

  test("a refused tick is not the last: later ticks are judged against the last taken one, after a break", async () => {
    const admit = (t: BusTick): Admission => (t.price > 50_000 ? { take: false, reason: "jump" } : { take: true });
    const rejected: string[] = [];
    const { sequencer, publish, seen, settled } = setUp({ admit, onRejected: (_t, reason) => void rejected.push(reason) });
    publish(tick(1));
    publish(tick(2, 60_000));
    publish(tick(3));
    publish(tick(4));
    await settled();
    expect(seen()).toEqual(["1!", "3!", "4"]);
    expect(rejected).toEqual(["jump"]);
    expect(sequencer.stats().rejected).toEqual({ jump: 1 });
  });

  test("a refused tick from outside the sequence (a forgery when signing is off) leaves no break", async () => {
    const admit = (t: BusTick): Admission => (t.price > 50_000 ? { take: false, reason: "jump" } : { take: true });
    const { sequencer, publish, seen, settled } = setUp({ admit });
    publish(tick(1));
    sequencer.push(json({ ...tick(999, 60_000), ts: 1500 }));
    publish(tick(2));
    await settled();
    expect(seen()).toEqual(["1!", "2"]);
  });

  test("a refused tick read back again is not judged twice", async () => {
    const admit = (t: BusTick): Admission => (t.price > 50_000 ? { take: false, reason: "jump" } : { take: true });
    const { sequencer, publish, store, settled } = setUp({ admit });
    publish(tick(1));
    store(tick(2, 60_000)); // refused live below, and in the history too
    sequencer.push(json(tick(2, 60_000)));
    await sequencer.catchUp("clock");
    await sequencer.catchUp("clock");
    await settled();
    expect(sequencer.stats().rejected).toEqual({ jump: 1 });
  });

  test("a future tick that is refused does not hold back the ticks after it", async () => {
    const admit = (t: BusTick): Admission => (t.ts > 1_001_000 ? { take: false, reason: "future" } : { take: true });
    const { publish, seen, settled } = setUp({ admit });
    publish(tick(1));
    publish({ ...tick(2), ts: 61_000_000 });
    publish(tick(3));
    await settled();
    expect(seen()).toEqual(["1!", "3!"]);
  });

  test("reads a long history in pages", async () => {
    const { sequencer, store, seen } = setUp({ pageSize: 3 });
    for (let i = 1; i <= 10; i++) store(tick(i));
    expect(await sequencer.catchUp("start")).toBe(true);
    expect(seen()).toHaveLength(10);
  });
});
