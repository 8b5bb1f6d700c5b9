import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pino from "pino";
import { startRedis, type TestRedis } from "../../test/support/redis-server.ts";
import { waitFor } from "../../test/support/wait.ts";
import { createRedis } from "../redis.ts";
import { type Bus, createMemoryBus, createRedisBus } from "./mod.ts";

const silent = pino({ level: "silent" });

type HandlerErrorListener = (error: unknown, channel: string) => void;

/** One behaviour suite for every Bus implementation; `make` passes `onHandlerError` to it. */
function behavesLikeABus(name: string, make: (onHandlerError?: HandlerErrorListener) => Promise<Bus>) {
  describe(`${name} bus`, () => {
    test("delivers a message to every subscriber of its channel, in order", async () => {
      const bus = await make();
      const a: string[] = [];
      const b: string[] = [];
      await bus.subscribe("ch:1", (m) => a.push(m));
      await bus.subscribe("ch:1", (m) => b.push(m));
      for (const m of ["1", "2", "3"]) await bus.publish("ch:1", m);
      await waitFor("both subscribers", () => a.length === 3 && b.length === 3);
      expect(a).toEqual(["1", "2", "3"]);
      expect(b).toEqual(["1", "2", "3"]);
      await bus.close();
    });

    test("does not deliver other channels' messages", async () => {
      const bus = await make();
      const got: string[] = [];
      await bus.subscribe("ch:a", (m, channel) => got.push(`${channel}=${m}`));
      await bus.publish("ch:b", "nope");
      await bus.publish("ch:a", "yes");
      await waitFor("message on ch:a", () => got.length === 1);
      await Bun.sleep(20);
      expect(got).toEqual(["ch:a=yes"]);
      await bus.close();
    });

    test("stops delivering after unsubscribe, keeping other handlers", async () => {
      const bus = await make();
      const a: string[] = [];
      const b: string[] = [];
      const stopA = await bus.subscribe("ch:u", (m) => a.push(m));
      await bus.subscribe("ch:u", (m) => b.push(m));
      await bus.publish("ch:u", "1");
      await waitFor("first", () => a.length === 1 && b.length === 1);
      await stopA();
      await bus.publish("ch:u", "2");
      await waitFor("second to b", () => b.length === 2);
      expect(a).toEqual(["1"]);
      await bus.close();
    });

    test("a throwing handler does not stop delivery to the others, and its error is reported with the channel", async () => {
      const reported: [unknown, string][] = [];
      const bus = await make((error, channel) => reported.push([error, channel]));
      const got: string[] = [];
      const boom = new Error("boom");
      await bus.subscribe("ch:t", () => {
        throw boom;
      });
      await bus.subscribe("ch:t", (m) => got.push(m));
      await bus.publish("ch:t", "x");
      await bus.publish("ch:t", "y");
      await waitFor("both messages", () => got.length === 2);
      expect(got).toEqual(["x", "y"]);
      expect(reported).toEqual([
        [boom, "ch:t"],
        [boom, "ch:t"],
      ]);
      expect(reported[0]![0]).toBe(boom);
      await bus.close();
    });
  });
}

behavesLikeABus("memory", async (onHandlerError) => createMemoryBus(onHandlerError));

let redis: TestRedis;
const opened: Bus[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((bus) => bus.close().catch(() => {})));
  await redis.stop();
});

behavesLikeABus("redis", async (onHandlerError) => {
  const publisher = createRedis(redis.url, silent, "publisher");
  const bus = createRedisBus({ publisher, subscriber: createRedis(redis.url, silent, "subscriber"), ...(onHandlerError ? { onHandlerError } : {}) });
  const close = bus.close;
  bus.close = async () => {
    await close();
    publisher.disconnect();
  };
  opened.push(bus);
  return bus;
});

test("redis bus resubscribes by itself after Redis restarts, and says so once it has", async () => {
  const publisher = createRedis(redis.url, silent, "publisher");
  const bus = createRedisBus({ publisher, subscriber: createRedis(redis.url, silent, "subscriber") });
  const got: string[] = [];
  let reconnects = 0;
  bus.onReconnect(() => reconnects++);
  await bus.subscribe("ch:r", (m) => got.push(m));
  await bus.publish("ch:r", "before");
  await waitFor("before restart", () => got.includes("before"));
  await redis.restart();
  await waitFor("delivery after restart", async () => {
    await bus.publish("ch:r", "after").catch(() => {});
    return got.includes("after");
  });
  await waitFor("the reconnect told", () => reconnects === 1);
  await bus.close();
  publisher.disconnect();
});
