import { describe, expect, test } from "bun:test";
import { type Bus, createMemoryBus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import { createLogger } from "../../common/log.ts";
import type { SequencedTick } from "../../common/prices/tick-sequencer.ts";
import { createTickSigner } from "../../common/prices/tick-signature.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startMarketFeed } from "./feed.ts";

const T0 = 1_700_000_000_000;
const bounds = { maxSkewMs: 1000, maxJump: 0.01, staleMs: 5000 };
const log = createLogger({ component: "api", level: "silent", sink: { write: () => {} } });
const signer = createTickSigner("feed-test-key-0123456789abcdef-0123456789");

const tick = (seq: number, price = 42_000 + seq): BusTick => ({ symbol: "BTC-USD", price, ts: T0 + seq * 100, seq });
const signed = (t: BusTick): BusTick => ({ ...t, sig: signer.sign(t) });

/** The stored history as a list, with every read it was asked for. */
function fakeHistory(stored: BusTick[] = []) {
  const reads: { after: number; to: number }[] = [];
  return {
    stored,
    reads,
    failures: 0,
    async history(after: number, to: number, limit: number): Promise<string[]> {
      reads.push({ after, to });
      if (this.failures > 0) {
        this.failures--;
        throw new Error("history unreachable");
      }
      return this.stored
        .filter((t) => t.ts > after && t.ts <= to)
        .slice(0, limit)
        .map((t) => JSON.stringify(t));
    },
  };
}

/** A memory bus whose reconnects the test triggers and whose first `failSubscribes` subscriptions fail. */
function fakeBus(failSubscribes = 0) {
  const inner = createMemoryBus();
  const reconnectListeners: (() => void)[] = [];
  let subscribers = 0;
  const bus: Bus = {
    publish: (channel, message) => inner.publish(channel, message),
    async subscribe(channel, handler) {
      if (failSubscribes-- > 0) throw new Error("redis down");
      subscribers++;
      const unsubscribe = await inner.subscribe(channel, handler);
      return async () => {
        subscribers--;
        await unsubscribe();
      };
    },
    onReconnect: (listener) => void reconnectListeners.push(listener),
    close: () => inner.close(),
  };
  return {
    bus,
    reconnect: () => reconnectListeners.forEach((listener) => listener()),
    subscribers: () => subscribers,
    publishTick: (t: BusTick) => inner.publish(Channels.priceTicks, JSON.stringify(t)),
  };
}

/** A feed on fakes, with what it delivered and refused, on a clock the test sets. */
function startFeed(options: { history?: ReturnType<typeof fakeHistory>; bus?: ReturnType<typeof fakeBus>; signed?: boolean; last?: BusTick; clock?: { now: number } } = {}) {
  const history = options.history ?? fakeHistory();
  const bus = options.bus ?? fakeBus();
  const clock = options.clock ?? { now: T0 + 10_000 };
  const delivered: SequencedTick[] = [];
  const rejected: { price: number; reason: string }[] = [];
  const feed = startMarketFeed({
    bus: bus.bus,
    history,
    bounds,
    historyFrom: T0 - 60_000,
    onTick: (t) => delivered.push(t),
    onRejected: (t, reason) => rejected.push({ price: t.price, reason }),
    log,
    now: () => clock.now,
    ...(options.signed ? { signer } : {}),
    ...(options.last ? { last: options.last } : {}),
  });
  const prices = () => delivered.map((d) => d.tick.price);
  return { feed, history, bus, clock, delivered, rejected, prices };
}

describe("startMarketFeed", () => {
  test("delivers the stored history first, then live ticks, in order", async () => {
    const { feed, bus, prices, delivered } = startFeed({ history: fakeHistory([tick(1), tick(2)]) });
    await feed.ready;
    expect(prices()).toEqual([42_001, 42_002]);
    expect(delivered.every((d) => d.recovered)).toBe(true);
    await bus.publishTick(tick(3));
    await waitFor("the live tick", () => prices().length === 3);
    expect(delivered[2]).toEqual({ tick: tick(3), continuous: true, recovered: false });
    await feed.stop();
  });

  test("reads the history after the last tick judged before the start, else from historyFrom", async () => {
    const after = startFeed({ last: tick(5), history: fakeHistory([tick(4), tick(5), tick(6)]) });
    await after.feed.ready;
    expect(after.history.reads[0]?.after).toBe(tick(5).ts);
    expect(after.prices()).toEqual([42_006]);
    await after.feed.stop();

    const fresh = startFeed();
    await fresh.feed.ready;
    expect(fresh.history.reads[0]?.after).toBe(T0 - 60_000);
    await fresh.feed.stop();
  });

  test("with a signer, a tick without a valid signature is dropped, live or stored", async () => {
    const forged = { ...signed(tick(2)), price: 50_000 };
    const { feed, bus, prices } = startFeed({ signed: true, history: fakeHistory([signed(tick(1)), tick(2), forged]) });
    await feed.ready;
    expect(prices()).toEqual([42_001]);
    await bus.publishTick(tick(3));
    await bus.publishTick(signed(tick(4)));
    await waitFor("the signed live tick", () => prices().length === 2);
    expect(prices()).toEqual([42_001, 42_004]);
    await feed.stop();
  });

  test("without a signer, an unsigned tick is taken", async () => {
    const { feed, prices } = startFeed({ history: fakeHistory([tick(1)]) });
    await feed.ready;
    expect(prices()).toEqual([42_001]);
    await feed.stop();
  });

  test("a tick outside the bounds is refused and reported, not delivered", async () => {
    const clock = { now: T0 + 1000 };
    const { feed, bus, prices, rejected } = startFeed({ clock, history: fakeHistory([tick(1)]) });
    await feed.ready;
    await bus.publishTick(tick(2, 43_000)); // a 2.4% jump from 42_001 while it is fresh
    await bus.publishTick({ ...tick(3), ts: clock.now + bounds.maxSkewMs + 1 }); // from the future
    await waitFor("two refusals", () => rejected.length === 2);
    expect(rejected).toEqual([
      { price: 43_000, reason: "jump" },
      { price: 42_003, reason: "future" },
    ]);
    expect(prices()).toEqual([42_001]);
    await feed.stop();
  });

  test("after the bus reconnects, what was stored meanwhile is read back at once", async () => {
    const history = fakeHistory([tick(1)]);
    const { feed, bus, clock, prices } = startFeed({ history });
    await feed.ready;
    history.stored.push(tick(2), tick(3));
    clock.now += 1000;
    bus.reconnect();
    await waitFor("the ticks stored while away", () => prices().length === 3);
    expect(prices()).toEqual([42_001, 42_002, 42_003]);
    await feed.stop();
  });

  test("an unreadable history and a failing subscription are retried until they work", async () => {
    const history = fakeHistory([tick(1)]);
    const clock = { now: T0 + 10_000 };
    // Each failed read moves the clock past the sequencer's retry deadline, so the start itself retries.
    const read = history.history.bind(history);
    history.history = async (after, to, limit) => {
      clock.now += 10_000;
      return read(after, to, limit);
    };
    history.failures = 1;
    const bus = fakeBus(1);
    const { feed, prices } = startFeed({ history, bus, clock });
    expect(feed.stats().subscribed).toBe(false);
    await feed.ready;
    expect(prices()).toEqual([42_001]);
    expect(bus.subscribers()).toBe(1);
    expect(feed.stats().subscribed).toBe(true);
    await feed.stop();
  }, 10_000);

  test("stats tell the last tick's age and number, and whether the feed is subscribed", async () => {
    const clock = { now: T0 + 10_000 };
    const empty = startFeed({ clock });
    expect(empty.feed.stats()).toMatchObject({ last_tick_age_ms: null, last_seq: null });
    await empty.feed.stop();

    const { feed } = startFeed({ clock, history: fakeHistory([tick(7)]) });
    await feed.ready;
    expect(feed.stats()).toMatchObject({ last_tick_age_ms: clock.now - tick(7).ts, last_seq: 7, subscribed: true, delivered: 1, recovered: 1 });
    await feed.stop();
  });

  test("once stopped, it unsubscribes and delivers nothing more", async () => {
    const { feed, bus, prices } = startFeed({ history: fakeHistory([tick(1)]) });
    await feed.ready;
    await feed.stop();
    expect(bus.subscribers()).toBe(0);
    await bus.publishTick(tick(2));
    await Bun.sleep(0);
    expect(prices()).toEqual([42_001]);
  });
});
