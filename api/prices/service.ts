import {
  PRICE_HISTORY_DEFAULT_LIMIT,
  PRICE_HISTORY_DEFAULT_SPAN_MS,
  PRICE_HISTORY_MAX_LIMIT,
  PRICE_HISTORY_MAX_SPAN_MS,
  type PriceHistory,
  type PriceHistoryQuery,
} from "../../common/contracts/price-history.ts";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { HttpError } from "../http/http-error.ts";

const WHOLE_NUMBER = /^[0-9]{1,15}$/;

/**
 * Reads the raw query string parameters into a `PriceHistoryQuery`. Done here
 * rather than by the router's coercion, which handles integers unevenly: every
 * parameter must be a plain whole number given once, and no other is allowed.
 * Throws `HttpError` 400 `validation_failed` listing every bad parameter.
 *
 * ```ts
 * parseHistoryQuery({ from: "1000", limit: "50" }) // { from: 1000, limit: 50 }
 * ```
 */
export function parseHistoryQuery(params: Record<string, unknown>): PriceHistoryQuery {
  const query: PriceHistoryQuery = {};
  const problems: ErrorDetail[] = [];
  for (const [name, raw] of Object.entries(params)) {
    if (name !== "from" && name !== "to" && name !== "limit") {
      problems.push({ path: `/${name}`, message: "unknown parameter: only from, to and limit are allowed" });
      continue;
    }
    if (typeof raw !== "string") {
      problems.push({ path: `/${name}`, message: "must be given once" });
      continue;
    }
    const value = WHOLE_NUMBER.test(raw) ? Number(raw) : Number.NaN;
    if (name === "limit") {
      if (!(value >= 1 && value <= PRICE_HISTORY_MAX_LIMIT)) {
        problems.push({ path: "/limit", message: `must be a whole number from 1 to ${PRICE_HISTORY_MAX_LIMIT}` });
      } else query.limit = value;
    } else if (Number.isNaN(value)) {
      problems.push({ path: `/${name}`, message: "must be a whole number of ms since the epoch" });
    } else query[name] = value;
  }
  if (problems.length > 0) throw new HttpError(400, "validation_failed", "price history query is not valid", problems);
  return query;
}

/**
 * The window and limit a history request resolves to, defaults filled in.
 *
 * ```ts
 * const window: HistoryWindow = { from: 300_000, to: 600_000, limit: 1000 };
 * ```
 */
export interface HistoryWindow {
  from: number;
  to: number;
  limit: number;
}

/**
 * Fills in the defaults (`to` = now, `from` = five minutes before `to`) and checks
 * what the schema cannot: `from <= to` and a span of at most an hour. Throws
 * `HttpError` 400 `validation_failed` naming the parameter.
 *
 * ```ts
 * resolveHistoryWindow({}, 600_000) // { from: 300_000, to: 600_000, limit: 1000 }
 * ```
 */
export function resolveHistoryWindow(query: PriceHistoryQuery, now: number): HistoryWindow {
  const to = query.to ?? now;
  const from = query.from ?? Math.max(0, to - PRICE_HISTORY_DEFAULT_SPAN_MS);
  const problems: ErrorDetail[] = [];
  if (from > to) problems.push({ path: "/from", message: "must not be after to" });
  else if (to - from > PRICE_HISTORY_MAX_SPAN_MS) {
    problems.push({ path: "/to", message: `window must span at most ${PRICE_HISTORY_MAX_SPAN_MS} ms` });
  }
  if (problems.length > 0) throw new HttpError(400, "validation_failed", "price history query is not valid", problems);
  return { from, to, limit: query.limit ?? PRICE_HISTORY_DEFAULT_LIMIT };
}

/**
 * Reads one window of history: its newest `limit` ticks, oldest first, and
 * whether older ones were left out (one read, newest first, of `limit + 1`).
 *
 * ```ts
 * const history = await readPriceHistory(ticks, resolveHistoryWindow({ limit: 3 }, Date.now()));
 * history.ticks; // the newest three of the last five minutes, oldest first
 * history.truncated; // true when the window held more than `limit` ticks
 * ```
 */
export async function readPriceHistory(ticks: Pick<TickStore, "newestInRange">, { from, to, limit }: HistoryWindow): Promise<PriceHistory> {
  const found = await ticks.newestInRange(from, to, limit + 1);
  const truncated = found.length > limit;
  return { symbol: "BTC-USD", from, to, ticks: truncated ? found.slice(1) : found, truncated };
}
