import { createHmac, timingSafeEqual } from "node:crypto";
import { ConfigError, readSecretFile } from "../config.ts";
import type { BusTick } from "../contracts/price.ts";

/** The fields a signature covers, in a fixed order; `String(price)` is the number's shortest exact form. */
function signedText(tick: Pick<BusTick, "symbol" | "seq" | "ts" | "price">): string {
  return `${tick.symbol}|${tick.seq}|${tick.ts}|${String(tick.price)}`;
}

/**
 * Signs ticks and checks their signatures with one key (`createTickSigner`).
 *
 * ```ts
 * const believe: (tick: BusTick) => boolean = signer.verify;
 * ```
 */
export interface TickSigner {
  /** The signature of `tick` (its symbol, seq, ts and price): base64url HMAC-SHA256. */
  sign(tick: Pick<BusTick, "symbol" | "seq" | "ts" | "price">): string;
  /** True when `tick` carries a sequence number and a signature of it by this key. */
  verify(tick: BusTick): boolean;
}

/**
 * Signs and checks ticks with the price service's key, so a consumer can tell
 * a tick the price service made from one anybody with access to Redis wrote.
 *
 * ```ts
 * const signer = createTickSigner(key);
 * const sig = signer.sign({ symbol: "BTC-USD", seq: 7, ts: 1_700_000_000_000, price: 42012.5 });
 * signer.verify({ symbol: "BTC-USD", seq: 7, ts: 1_700_000_000_000, price: 42012.5, sig }); // true
 * ```
 */
export function createTickSigner(key: string): TickSigner {
  const mac = (text: string) => createHmac("sha256", key).update(text).digest();
  return {
    sign: (tick) => mac(signedText(tick)).toString("base64url"),
    verify(tick) {
      if (tick.seq === undefined || tick.sig === undefined) return false;
      const expected = mac(signedText(tick));
      const given = Buffer.from(tick.sig, "base64url");
      // Compared as bytes; a non-canonical spelling of the same bytes is refused by the re-encoding check.
      return given.length === expected.length && timingSafeEqual(given, expected) && given.toString("base64url") === tick.sig;
    },
  };
}

/**
 * The tick-signing key: `PRICE_SIGNING_KEY`, or the first line of the file
 * named by `PRICE_SIGNING_KEY_FILE` (mode 0600 or stricter), at least 32
 * bytes. Undefined when neither is set: ticks are then neither signed nor
 * checked (a developer can publish a test tick by hand).
 *
 * ```ts
 * const key = readPriceSigningKey(process.env);
 * const signer = key === undefined ? undefined : createTickSigner(key);
 * ```
 */
export function readPriceSigningKey(env: Record<string, string | undefined>): string | undefined {
  const inline = env.PRICE_SIGNING_KEY?.trim();
  const file = env.PRICE_SIGNING_KEY_FILE?.trim();
  if (inline && file) throw new ConfigError("PRICE_SIGNING_KEY_FILE", file, "set PRICE_SIGNING_KEY or PRICE_SIGNING_KEY_FILE, not both");
  const key = file ? readSecretFile("PRICE_SIGNING_KEY_FILE", file) : inline;
  if (key === undefined || key === "") return undefined;
  if (Buffer.byteLength(key) < 32) throw new ConfigError(file ? "PRICE_SIGNING_KEY_FILE" : "PRICE_SIGNING_KEY", file ?? "***", "must be at least 32 bytes");
  return key;
}
