import { Type as t, type Static } from "@sinclair/typebox";
import { Symbol, Tick } from "./price.ts";

/**
 * The widest window one `GET /api/prices` may ask for, an hour: the history the price service keeps.
 *
 * ```ts
 * if (to - from > PRICE_HISTORY_MAX_SPAN_MS) problems.push({ path: "/to", message: "window too wide" });
 * ```
 */
export const PRICE_HISTORY_MAX_SPAN_MS = 60 * 60 * 1000;
/**
 * The window when `from` is left out: five minutes before `to`.
 *
 * ```ts
 * const from = query.from ?? Math.max(0, to - PRICE_HISTORY_DEFAULT_SPAN_MS);
 * ```
 */
export const PRICE_HISTORY_DEFAULT_SPAN_MS = 5 * 60 * 1000;
/**
 * The most ticks one answer carries: an hour at 1/s, or five minutes at 10/s, fit.
 *
 * ```ts
 * Value.Check(PriceHistoryQuery, { limit: PRICE_HISTORY_MAX_LIMIT + 1 }); // false
 * ```
 */
export const PRICE_HISTORY_MAX_LIMIT = 5000;
/**
 * The most ticks an answer carries when `limit` is left out.
 *
 * ```ts
 * const limit = query.limit ?? PRICE_HISTORY_DEFAULT_LIMIT;
 * ```
 */
export const PRICE_HISTORY_DEFAULT_LIMIT = 1000;

/**
 * `GET /api/prices?from=&to=&limit=`: ticks with `from <= ts <= to` (ms since the
 * epoch), oldest first; the newest `limit` of them when there are more. `to`
 * defaults to now, `from` to five minutes before `to`.
 *
 * ```ts
 * const query: PriceHistoryQuery = { from: 1_767_225_000_000, to: 1_767_225_600_000, limit: 500 };
 * ```
 */
export const PriceHistoryQuery = t.Object(
  {
    from: t.Optional(t.Integer({ minimum: 0, description: "first tick time, ms since the epoch (inclusive)" })),
    to: t.Optional(t.Integer({ minimum: 0, description: "last tick time, ms since the epoch (inclusive)" })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: PRICE_HISTORY_MAX_LIMIT })),
  },
  { additionalProperties: false },
);
export type PriceHistoryQuery = Static<typeof PriceHistoryQuery>;

/**
 * The answer: the window actually read and its ticks, oldest first. When more than
 * `limit` ticks match, the **newest** `limit` come back (still oldest first) with
 * `truncated: true`; ask again with `to` = the first tick's `ts` − 1 for older ones.
 *
 * ```ts
 * const answer: PriceHistory = {
 *   symbol: "BTC-USD", from: 1_767_225_000_000, to: 1_767_225_600_000,
 *   ticks: [{ symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_000_250 }], truncated: false,
 * };
 * ```
 */
export const PriceHistory = t.Object(
  {
    symbol: Symbol,
    from: t.Integer(),
    to: t.Integer(),
    ticks: t.Array(Tick),
    truncated: t.Boolean(),
  },
  {
    examples: [
      {
        symbol: "BTC-USD",
        from: 1_767_225_000_000,
        to: 1_767_225_600_000,
        ticks: [
          { symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_000_250 },
          { symbol: "BTC-USD", price: 87_416.1, ts: 1_767_225_000_500 },
        ],
        truncated: false,
      },
    ],
  },
);
export type PriceHistory = Static<typeof PriceHistory>;
