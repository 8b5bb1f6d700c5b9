import { describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { waitFor } from "../../test/support/wait.ts";
import { connectVenue } from "./connection.ts";
import type { VenueEvent, VenueProtocol } from "./protocol.ts";

/** A WebSocket the test drives by hand: opened, fed frames, closed. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(frame: string) {
    this.sent.push(frame);
  }
  close() {
    this.closed = true;
  }
  // The test's hands:
  open() {
    this.onopen?.();
  }
  message(text: string) {
    this.onmessage?.({ data: text });
  }
  drop(code = 1006) {
    this.onclose?.({ code, reason: "" });
  }
}

/** A protocol whose frames are their own meaning: `quote:<price>`, `refuse`, `gap:<reason>`, `old`, anything else invalid. */
const protocol: VenueProtocol = {
  name: "kraken",
  url: "ws://fake",
  subscribe: () => ["subscribe"],
  parse(text, receivedAt): VenueEvent[] {
    if (text.startsWith("quote:")) return [{ kind: "quote", quote: { venue: "kraken", last: Number(text.slice(6)), receivedAt } }];
    if (text === "refuse") return [{ kind: "refused", reason: "no" }];
    if (text.startsWith("gap:")) return [{ kind: "gap", reason: text.slice(4) }];
    if (text === "old") return [{ kind: "outdated", reason: "older than the last" }];
    return [{ kind: "invalid", reason: "test" }];
  },
  silenceMs: 60_000,
  backoff: { baseMs: 4, capMs: 32 },
};

/** A feed over fake sockets and a fake clock; every retry delay it chooses is read from its log. */
function start({ random = () => 0, clock = { now: 1_000_000 } }: { random?: () => number; clock?: { now: number } } = {}) {
  FakeSocket.instances = [];
  const delays: number[] = [];
  const warnings: Record<string, unknown>[] = [];
  const log = createLogger({
    component: "test",
    level: "warn",
    sink: {
      write(line: string) {
        const record = JSON.parse(line) as { retry_in_ms?: number };
        if (record.retry_in_ms !== undefined) delays.push(record.retry_in_ms);
        else warnings.push(record);
      },
    },
  });
  const feed = connectVenue({ protocol, onQuote: () => {}, staleMs: 1_000, log, now: () => clock.now, random, WebSocketClass: FakeSocket as unknown as typeof WebSocket });
  /** The nth socket, once the feed has opened it. */
  const socket = (n: number) => waitFor(`socket ${n}`, () => FakeSocket.instances[n - 1], 2_000, 1);
  return { feed, delays, warnings, clock, socket, [Symbol.dispose]: () => feed.close() };
}

/** Lets `count` sockets in a row fail before they open. */
async function failInARow(socket: (n: number) => Promise<FakeSocket>, from: number, count: number) {
  for (let n = from; n < from + count; n++) (await socket(n)).drop();
}

describe("connectVenue's backoff", () => {
  test("each failure doubles the step from the base up to the cap; with no jitter the delay is half the step", async () => {
    using feed = start({ random: () => 0 });
    await failInARow(feed.socket, 1, 7);
    await feed.socket(8);
    // Steps 4, 8, 16, 32, 32, 32, 32 (capped).
    expect(feed.delays).toEqual([2, 4, 8, 16, 16, 16, 16]);
  });

  test("with the most jitter the delay is the whole step, never more than the cap", async () => {
    using feed = start({ random: () => 0.999_999 });
    await failInARow(feed.socket, 1, 7);
    await feed.socket(8);
    expect(feed.delays).toEqual([4, 8, 16, 32, 32, 32, 32]);
  });

  test("every delay lies between half its step and the whole step", async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
    using feed = start({ random });
    await failInARow(feed.socket, 1, 12);
    await feed.socket(13);
    feed.delays.forEach((delay, attempt) => {
      const step = Math.min(protocol.backoff.capMs, protocol.backoff.baseMs * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
    });
    expect(new Set(feed.delays.slice(4)).size).toBeGreaterThan(1);
  });

  test("a connection that opened but died young does not restart the backoff", async () => {
    using feed = start();
    await failInARow(feed.socket, 1, 3);
    const fourth = await feed.socket(4);
    fourth.open();
    feed.clock.now += 29_999;
    fourth.drop();
    await feed.socket(5);
    expect(feed.delays).toEqual([2, 4, 8, 16]);
  });

  test("a connection that stayed up 30 s restarts the backoff from its base", async () => {
    using feed = start();
    await failInARow(feed.socket, 1, 3);
    const fourth = await feed.socket(4);
    fourth.open();
    feed.clock.now += 30_000;
    fourth.drop();
    await feed.socket(5);
    expect(feed.delays).toEqual([2, 4, 8, 2]);
  });

  test("after one healthy connection, failures that never open keep backing off (no hammering a venue that is down)", async () => {
    using feed = start();
    await failInARow(feed.socket, 1, 3);
    const healthy = await feed.socket(4);
    healthy.open();
    feed.clock.now += 60_000;
    healthy.drop();
    // The venue now refuses every connection, minutes after that healthy one.
    for (let n = 5; n <= 8; n++) {
      feed.clock.now += 60_000;
      (await feed.socket(n)).drop();
    }
    await feed.socket(9);
    expect(feed.delays).toEqual([2, 4, 8, 2, 4, 8, 16, 16]);
  });

  test("a refusal and a socket error reconnect with the same backoff", async () => {
    using feed = start();
    const first = await feed.socket(1);
    first.open();
    expect(first.sent).toEqual(["subscribe"]);
    first.message("refuse");
    expect(first.closed).toBe(true);
    const second = await feed.socket(2);
    second.open();
    second.onerror?.();
    await feed.socket(3);
    expect(feed.delays).toEqual([2, 4]);
    expect(feed.feed.stats().reconnects).toBe(2);
  });

  test("bad frames are counted, not thrown; quotes are counted", async () => {
    using feed = start();
    const first = await feed.socket(1);
    first.open();
    first.message("garbage");
    first.onmessage?.({ data: new Uint8Array([1, 2]) });
    first.message("quote:64000.5");
    expect(feed.feed.stats()).toMatchObject({ dropped: 2, quotes: 1, reconnects: 0, state: "live" });
  });

  test("gaps are counted and warned about at most every 10 s, naming the venue and the ids; the quotes go on", async () => {
    using feed = start();
    const first = await feed.socket(1);
    first.open();
    first.message("gap:last_trade_id 20 ahead of 17");
    first.message("gap:last_trade_id 25 ahead of 21");
    first.message("quote:64000.5");
    expect(feed.feed.stats()).toMatchObject({ gaps: 2, dropped: 0, quotes: 1, reconnects: 0, state: "live" });
    const gapWarnings = () => feed.warnings.filter((record) => record.gaps_total !== undefined);
    expect(gapWarnings()).toMatchObject([{ venue: "kraken", reason: "last_trade_id 20 ahead of 17", gaps: 1, gaps_total: 1 }]);
    feed.clock.now += 10_000;
    first.message("gap:last_trade_id 30 ahead of 26");
    expect(gapWarnings()).toMatchObject([{ gaps_total: 1 }, { reason: "last_trade_id 30 ahead of 26", gaps: 2, gaps_total: 3 }]);
    expect(feed.feed.stats().gaps).toBe(3);
  });

  test("an outdated message is dropped and counted as a bad frame is", async () => {
    using feed = start();
    const first = await feed.socket(1);
    first.open();
    first.message("quote:64000.5");
    first.message("old");
    expect(feed.feed.stats()).toMatchObject({ dropped: 1, gaps: 0, quotes: 1 });
  });
});
