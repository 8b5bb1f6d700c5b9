import { describe, expect, test } from "bun:test";
import { Channels } from "../../common/channels.ts";
import { Value } from "@sinclair/typebox/value";
import { BetEventBatch, type BetEventEnvelope, MAX_BET_EVENTS_PER_MESSAGE } from "../../common/contracts/bet-event.ts";
import { createLogger } from "../../common/log.ts";
import { createBetEventPublisher } from "./event-publisher.ts";

const logged: Record<string, unknown>[] = [];
const log = createLogger({ component: "api", level: "warn", sink: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
const envelope = (i: number): BetEventEnvelope => ({ player_id: `p${i % 3}`, event: { type: "bet", bet_id: `b${i}`, status: "lost", payout: 0, balance: 10 } });

function setUp(fail = false) {
  const published: [string, BetEventEnvelope[]][] = [];
  const flushes: (() => void)[] = [];
  const events = createBetEventPublisher({
    bus: {
      publish: async (channel, message) => {
        published.push([channel, JSON.parse(message) as BetEventEnvelope[]]);
        if (fail) throw new Error("redis is down");
      },
    },
    log,
    schedule: (flush) => flushes.push(flush),
  });
  return { events, published, flushes };
}

describe("bet event publisher", () => {
  test("the events of one job go out together, in order, as one message on bets:events", () => {
    const { events, published, flushes } = setUp();
    for (let i = 0; i < 3; i++) events.push(envelope(i));
    expect(published).toEqual([]);
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    expect(published).toEqual([[Channels.betEvents, [envelope(0), envelope(1), envelope(2)]]]);
  });

  test("a job with more events than a message holds is split, nothing lost or reordered", () => {
    const { events, published, flushes } = setUp();
    const count = MAX_BET_EVENTS_PER_MESSAGE * 2 + 7;
    for (let i = 0; i < count; i++) events.push(envelope(i));
    flushes.shift()!();
    expect(published.map(([, batch]) => batch.length)).toEqual([MAX_BET_EVENTS_PER_MESSAGE, MAX_BET_EVENTS_PER_MESSAGE, 7]);
    expect(published.flatMap(([, batch]) => batch.map((e) => e.event.bet_id))).toEqual(Array.from({ length: count }, (_, i) => `b${i}`));
    // Every message is a batch as the contract has it (the ws bridge reads exactly this).
    for (const [, batch] of published) expect(Value.Check(BetEventBatch, batch)).toBe(true);
  });

  test("the next job gets a flush of its own", () => {
    const { events, published, flushes } = setUp();
    events.push(envelope(0));
    flushes.shift()!();
    events.push(envelope(1));
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    expect(published.map(([, batch]) => batch.map((e) => e.event.bet_id))).toEqual([["b0"], ["b1"]]);
  });

  test("a failed publish is logged, not thrown", async () => {
    const { events, flushes } = setUp(true);
    events.push(envelope(0));
    expect(() => flushes.shift()!()).not.toThrow();
    await Bun.sleep(1);
    expect(logged.at(-1)).toMatchObject({ level: "warn", msg: "could not publish bet events", err: "redis is down", events: 1, first_bet_id: "b0" });
  });

  test("by default the events go out at the end of the current job", async () => {
    const published: string[] = [];
    const events = createBetEventPublisher({ bus: { publish: async (_channel, message) => void published.push(message) }, log });
    events.push(envelope(0));
    events.push(envelope(1));
    expect(published).toEqual([]);
    await Promise.resolve();
    expect(published.map((m) => (JSON.parse(m) as unknown[]).length)).toEqual([2]);
  });
});
