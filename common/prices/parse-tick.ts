import { Value } from "@sinclair/typebox/value";
import { Tick } from "../contracts/price.ts";

/** The original plan published bare decimal strings such as "42012.34". */
const PLAIN_PRICE = /^\d{1,12}(\.\d{1,12})?$/;

/**
 * Reads a message from the price channel: the JSON `Tick`, or a plain decimal
 * string (stamped with `receivedAt`, as it carries no time of its own).
 * Returns undefined for anything else, so a bad publisher cannot crash a reader.
 */
export function parseTickMessage(raw: string, receivedAt: number): Tick | undefined {
  const text = raw.trim();
  if (PLAIN_PRICE.test(text)) {
    const price = Number(text);
    return price > 0 ? { symbol: "BTC-USD", price, ts: receivedAt } : undefined;
  }
  if (text.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof value === "object" && value !== null && !("symbol" in value)) value = { ...value, symbol: "BTC-USD" };
    return Value.Check(Tick, value) ? { symbol: value.symbol, price: value.price, ts: value.ts } : undefined;
  }
  return undefined;
}
