import { Value } from "@sinclair/typebox/value";
import { BusTick, type Tick } from "../contracts/price.ts";

/** The original plan published bare decimal strings such as "42012.34". */
const PLAIN_PRICE = /^\d{1,12}(\.\d{1,12})?$/;

/**
 * Reads a message from the price channel (or a stored tick) with its number and
 * signature, if any: the JSON `BusTick`, or a plain decimal string (stamped
 * with `receivedAt`, as it carries no time of its own). Returns undefined for
 * anything else, so a bad publisher cannot crash a reader. Whether it may be
 * believed is the reader's check (common/prices/tick-signature.ts).
 *
 * ```ts
 * parseBusTick('{"price":87415.3,"ts":1767225600000,"seq":7}', Date.now()); // { symbol: "BTC-USD", price: 87415.3, ts: 1767225600000, seq: 7 }
 * parseBusTick("87415.30", 1_767_225_600_000); // { symbol: "BTC-USD", price: 87415.3, ts: 1767225600000 }
 * parseBusTick("hello", Date.now()); // undefined
 * ```
 */
export function parseBusTick(raw: string, receivedAt: number): BusTick | undefined {
  const text = raw.trim();
  if (PLAIN_PRICE.test(text)) {
    const price = Number(text);
    return price > 0 ? { symbol: "BTC-USD", price, ts: receivedAt } : undefined;
  }
  if (!text.startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === "object" && value !== null && !("symbol" in value)) value = { ...value, symbol: "BTC-USD" };
  if (!Value.Check(BusTick, value)) return undefined;
  const tick: BusTick = { symbol: value.symbol, price: value.price, ts: value.ts };
  if (value.seq !== undefined) tick.seq = value.seq;
  if (value.sig !== undefined) tick.sig = value.sig;
  if (value.source !== undefined) tick.source = value.source;
  if (value.venues !== undefined) tick.venues = value.venues;
  if (value.dispersion_bps !== undefined) tick.dispersion_bps = value.dispersion_bps;
  return tick;
}

/**
 * Reads a tick as readers outside settlement see it: symbol, price and time only.
 *
 * ```ts
 * parseTickMessage('{"symbol":"BTC-USD","price":87415.3,"ts":1767225600000,"seq":7,"source":"mock"}', Date.now());
 * // { symbol: "BTC-USD", price: 87415.3, ts: 1767225600000 }
 * ```
 */
export function parseTickMessage(raw: string, receivedAt: number): Tick | undefined {
  const tick = parseBusTick(raw, receivedAt);
  return tick && { symbol: tick.symbol, price: tick.price, ts: tick.ts };
}
