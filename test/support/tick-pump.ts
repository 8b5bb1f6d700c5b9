import Redis from "ioredis";
import { Channels, Keys } from "../../common/channels.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import { createTickSigner } from "../../common/prices/tick-signature.ts";

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

export interface TickPumpOptions {
  /** Signs every tick with this key, as the price service does with PRICE_SIGNING_KEY. */
  signingKey?: string;
}

export async function startTickPump(redisUrl: string, price: number, everyMs = 200, { signingKey }: TickPumpOptions = {}): Promise<TickPump> {
  const redis = new Redis(redisUrl);
  // A test may restart Redis under the pump: its publishes then fail (and are retried by the test), no noise.
  redis.on("error", () => {});
  const signer = signingKey ? createTickSigner(signingKey) : undefined;
  let lastTs = 0;
  let seq: number | undefined;
  const pump: TickPump = {
    price,
    async publish(next) {
      if (next !== undefined) pump.price = next;
      const ts = Math.max(Date.now(), lastTs + 1);
      lastTs = ts;
      seq = seq === undefined ? ts : seq + 1;
      const tick: BusTick = { symbol: "BTC-USD", price: pump.price, ts, seq };
      if (signer) tick.sig = signer.sign(tick);
      const json = JSON.stringify(tick);
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
