import {
  PRICE_HISTORY_DEFAULT_LIMIT,
  PRICE_HISTORY_DEFAULT_SPAN_MS,
  PRICE_HISTORY_MAX_LIMIT,
  PRICE_HISTORY_MAX_SPAN_MS,
  type PriceHistory,
  type PriceHistoryQuery,
} from "../../common/contracts/price-history.ts";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import type { Tick } from "../../common/contracts/price.ts";
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

/** The first span read back from `to`, per tick asked for: ticks come about every 100 ms or slower. */
const GUESS_MS_PER_TICK = 100;
/** The shortest first span, ms. */
const MIN_SPAN_MS = 1000;
/** Ticks per read when a span is read through. */
const PAGE = 1000;

/**
 * Reads one window of history: its newest `limit` ticks, oldest first, and
 * whether older ones were left out.
 *
 * The store reads oldest first, so the newest are found from the end: a span
 * ending at `to` is doubled until it holds more than `limit` ticks (one read
 * of `limit + 1` each) or reaches `from`, then read through to its end,
 * keeping the last `limit`. That reads at most about twice the ticks asked for.
 *
 * ```ts
 * const history = await readPriceHistory(ticks, resolveHistoryWindow({ limit: 3 }, Date.now()));
 * history.ticks; // the newest three of the last five minutes, oldest first
 * history.truncated; // true when the window held more than `limit` ticks
 * ```
 */
export async function readPriceHistory(ticks: Pick<TickStore, "range">, { from, to, limit }: HistoryWindow): Promise<PriceHistory> {
  const answer = (found: Tick[], truncated: boolean): PriceHistory => ({ symbol: "BTC-USD", from, to, ticks: found, truncated });
  let span = Math.max(MIN_SPAN_MS, limit * GUESS_MS_PER_TICK);
  for (;;) {
    const start = Math.max(from, to - span);
    const oldest = await ticks.range(start, to, limit + 1);
    if (oldest.length <= limit) {
      if (start === from) return answer(oldest, false);
      span *= 2;
      continue;
    }
    // More than `limit` from `start` on: read the rest of the span, keeping the newest.
    let newest = oldest.slice(-limit);
    let cursor = (oldest.at(-1)?.ts ?? to) + 1;
    while (cursor <= to) {
      const page = await ticks.range(cursor, to, PAGE);
      const last = page.at(-1);
      if (!last) break;
      newest = newest.concat(page).slice(-limit);
      cursor = last.ts + 1;
    }
    return answer(newest, true);
  }
}
