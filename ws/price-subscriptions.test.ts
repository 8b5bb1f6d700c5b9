import { expect, test } from "bun:test";
import type { LabelledTick } from "../common/contracts/price.ts";
import { createLogger } from "../common/log.ts";
import { OPEN, type Socket } from "./connection.ts";
import { createPriceSubscriptions, type PriceSubscriptionsOptions } from "./price-subscriptions.ts";
import type { ShardedTopic, Subscriber } from "./sharded-topic.ts";

const log = createLogger({ component: "ws", level: "silent" });
const tick = (price: number, ts: number): LabelledTick => ({ symbol: "BTC-USD", price, ts });

function setUp(options: Partial<PriceSubscriptionsOptions> = {}) {
  const sent: [Socket, string][] = [];
  const subscribed: [Subscriber, number | undefined][] = [];
  const unsubscribed: Subscriber[] = [];
  let failures = 0;
  const topic = { subscribe: (s: Subscriber, after?: number) => void subscribed.push([s, after]), unsubscribe: (s: Subscriber) => void unsubscribed.push(s) } as unknown as ShardedTopic;
  const prices = createPriceSubscriptions({
    topic,
    latestTick: async () => undefined,
    seen: () => undefined,
    timeoutMs: 50,
    sendText: (ws, text) => void sent.push([ws, text]),
    log,
    onReadFailed: () => failures++,
    ...options,
  });
  const socket = () => ({ readyState: OPEN, data: { joins: 0, wantsPrices: false, topicMember: {} } }) as unknown as Socket;
  return { prices, socket, sent, subscribed, unsubscribed, failures: () => failures };
}

test("join sends the newer of the stored and the seen tick, then subscribes after it", async () => {
  const { prices, socket, sent, subscribed } = setUp({ latestTick: async () => tick(10, 1000), seen: () => tick(11, 2000) });
  const ws = socket();
  await prices.join(ws);
  expect(sent.map(([, text]) => JSON.parse(text))).toEqual([{ type: "price", symbol: "BTC-USD", price: 11, ts: 2000 }]);
  expect(subscribed).toEqual([[ws.data.topicMember!, 2000]]);
  expect(ws.data.wantsPrices).toBe(true);
});

test("clients joining together share one read of the store", async () => {
  let reads = 0;
  const { prices, socket, sent } = setUp({
    latestTick: async () => {
      reads++;
      await Bun.sleep(5);
      return tick(10, 1000);
    },
  });
  await Promise.all([prices.join(socket()), prices.join(socket()), prices.join(socket())]);
  expect(reads).toBe(1);
  expect(sent).toHaveLength(3);
});

test("a store that fails or hangs: counted once per read, and the client is subscribed without a snapshot", async () => {
  for (const latestTick of [() => Promise.reject(new Error("down")), () => new Promise<undefined>(() => {})]) {
    const { prices, socket, sent, subscribed, failures } = setUp({ latestTick });
    await Promise.all([prices.join(socket()), prices.join(socket())]);
    expect(failures()).toBe(1);
    expect(sent).toEqual([]);
    expect(subscribed.map(([, after]) => after)).toEqual([undefined, undefined]);
  }
});

test("a leave, or a close, while the store is read is not undone by the read", async () => {
  const stored = Promise.withResolvers<LabelledTick>();
  const { prices, socket, sent, subscribed, unsubscribed } = setUp({ latestTick: () => stored.promise });
  const left = socket();
  const closed = socket();
  const joining = [prices.join(left), prices.join(closed)];
  prices.leave(left);
  (closed as unknown as { readyState: number }).readyState = 3;
  stored.resolve(tick(10, 1000));
  await Promise.all(joining);
  expect(sent).toEqual([]);
  expect(subscribed).toEqual([]);
  expect(unsubscribed).toEqual([left.data.topicMember!]);
  expect(left.data.wantsPrices).toBe(false);
});
