import { Type as t, type Static } from "@sinclair/typebox";

export const Symbol = t.Literal("BTC-USD");

/** One observed BTC/USD price; `ts` is the time of the observation in ms since the epoch. */
export const Tick = t.Object({
  symbol: Symbol,
  price: t.Number({ exclusiveMinimum: 0 }),
  ts: t.Integer({ minimum: 0 }),
});
export type Tick = Static<typeof Tick>;

/** A tick as pushed to websocket clients. */
export const PriceMessage = t.Object({
  type: t.Literal("price"),
  symbol: Symbol,
  price: t.Number(),
  ts: t.Integer(),
});
export type PriceMessage = Static<typeof PriceMessage>;
