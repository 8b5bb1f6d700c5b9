import Redis from "ioredis";
import { Channels, Keys } from "../../common/channels.ts";

/**
 * Publishes BTC ticks at a price the test controls, stamped with the current
 * time, numbered, stored and published in one transaction, as the price
 * service does: so the API has a fresh, known price.
 */
export interface TickPump {
  price: number;
  /** Publishes one tick now at `price` (and keeps pumping at it). */
  publish(price?: number): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTickPump(redisUrl: string, price: number, everyMs = 200): Promise<TickPump> {
  const redis = new Redis(redisUrl);
  let lastTs = 0;
  let seq: number | undefined;
  const pump: TickPump = {
    price,
    async publish(next) {
      if (next !== undefined) pump.price = next;
      const ts = Math.max(Date.now(), lastTs + 1);
      lastTs = ts;
      seq = seq === undefined ? ts : seq + 1;
      const json = JSON.stringify({ symbol: "BTC-USD", price: pump.price, ts, seq });
      await redis.multi().set(Keys.latestPrice, json, "EX", 3600).zadd(Keys.priceHistory, ts, json).publish(Channels.priceTicks, json).exec();
    },
    async stop() {
      clearInterval(timer);
      redis.disconnect();
    },
    [Symbol.asyncDispose]: () => pump.stop(),
  };
  const timer = setInterval(() => void pump.publish().catch(() => {}), everyMs);
  await pump.publish();
  return pump;
}
