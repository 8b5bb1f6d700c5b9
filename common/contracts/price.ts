import { Type as t, type Static } from "@sinclair/typebox";

/**
 * The one market traded.
 *
 * ```ts
 * const symbol: Static<typeof Symbol> = "BTC-USD";
 * ```
 */
export const Symbol = t.Literal("BTC-USD");

/**
 * One observed BTC/USD price; `ts` is the time of the observation in ms since the epoch.
 *
 * ```ts
 * const tick: Tick = { symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000 };
 * ```
 */
export const Tick = t.Object({
  symbol: Symbol,
  price: t.Number({ exclusiveMinimum: 0 }),
  ts: t.Integer({ minimum: 0 }),
});
export type Tick = Static<typeof Tick>;

/**
 * A tick with where it came from, when the price service said so: the latest price as clients are shown it.
 *
 * ```ts
 * const latest: LabelledTick = { symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, source: "venues", venues: 3 };
 * ```
 */
export const LabelledTick = t.Object(
  {
    ...Tick.properties,
    /** `venues` (the exchanges' composite index) or `mock` (simulated). */
    source: t.Optional(t.Union([t.Literal("venues"), t.Literal("mock")])),
    /** How many venues the index was made from. */
    venues: t.Optional(t.Integer({ minimum: 0 })),
  },
  { examples: [{ symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, source: "venues", venues: 3 }] },
);
export type LabelledTick = Static<typeof LabelledTick>;

/**
 * A tick as the price service publishes and stores it: numbered (`seq` is the
 * previous tick's plus one, so a consumer can tell a missed tick) and, when
 * signing is on, signed (`sig`, common/prices/tick-signature.ts).
 *
 * ```ts
 * const published: BusTick = {
 *   symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, seq: 52_114,
 *   sig: "3q2-7w…", source: "venues", venues: 3, dispersion_bps: 1.8,
 * };
 * ```
 */
export const BusTick = t.Object({
  symbol: Symbol,
  price: t.Number({ exclusiveMinimum: 0 }),
  ts: t.Integer({ minimum: 0 }),
  seq: t.Optional(t.Integer({ minimum: 0 })),
  sig: t.Optional(t.String({ maxLength: 64 })),
  /** Where the price came from: `venues` (the exchanges' composite index) or `mock` (simulated). */
  source: t.Optional(t.Union([t.Literal("venues"), t.Literal("mock")])),
  /** How many venues the index was made from, and their mids' spread in basis points. */
  venues: t.Optional(t.Integer({ minimum: 0 })),
  dispersion_bps: t.Optional(t.Number({ minimum: 0 })),
});
export type BusTick = Static<typeof BusTick>;

/**
 * A tick as pushed to websocket clients, with where it came from when the tick
 * says so (`source`, and for `venues` how many made it), so the page can label
 * a simulated price as such.
 *
 * ```ts
 * const message: PriceMessage = { type: "price", symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, source: "mock" };
 * ```
 */
export const PriceMessage = t.Object(
  {
    type: t.Literal("price"),
    symbol: Symbol,
    price: t.Number(),
    ts: t.Integer(),
    source: t.Optional(t.Union([t.Literal("venues"), t.Literal("mock")])),
    venues: t.Optional(t.Integer({ minimum: 0 })),
  },
  { examples: [{ type: "price", symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, source: "venues", venues: 3 }] },
);
export type PriceMessage = Static<typeof PriceMessage>;
