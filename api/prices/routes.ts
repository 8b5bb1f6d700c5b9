import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { LabelledTick } from "../../common/contracts/price.ts";
import { PriceHistory, PriceHistoryQuery } from "../../common/contracts/price-history.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { withTimeout } from "../../common/timeout.ts";
import { HttpError } from "../http/http-error.ts";
import { describeRoute, queryParameters } from "../openapi/operation.ts";
import { parseHistoryQuery, readPriceHistory, resolveHistoryWindow } from "./service.ts";

/** How long a read from the price store may take before the answer is 503. */
const STORE_TIMEOUT_MS = 1000;

const storeUnreachable = () => new HttpError(503, "unavailable", "price store is unreachable", [], { "retry-after": "1" });

/**
 * `GET /api/price`: the latest tick the price service stored, or 503 when there is none.
 * `GET /api/prices?from=&to=&limit=`: the stored history in a bounded window, oldest first.
 *
 * ```ts
 * new Elysia().use(priceRoutes({ ticks }));
 * ```
 */
export function priceRoutes({ ticks, now = Date.now }: { ticks: Pick<TickStore, "latest" | "newestInRange">; now?: () => number }) {
  return new Elysia({ name: "prices" })
    .get(
      "/api/price",
      async () => {
        let latest: LabelledTick | undefined;
        try {
          latest = await withTimeout(ticks.latest(), STORE_TIMEOUT_MS, "reading the latest price");
        } catch {
          throw storeUnreachable();
        }
        if (!latest) throw new HttpError(503, "unavailable", "no price yet", [], { "retry-after": "1" });
        return latest;
      },
      {
        response: { 200: LabelledTick, 503: ErrorBody },
        detail: describeRoute({ summary: "The latest price", description: "The latest tick the price service stored; 503 while there is none or the store does not answer.", tags: ["market"] }),
      },
    )
    .get(
      "/api/prices",
      async ({ query, set }) => {
        const window = resolveHistoryWindow(parseHistoryQuery(query), now());
        set.headers["cache-control"] = "no-store";
        try {
          return await withTimeout(readPriceHistory(ticks, window), STORE_TIMEOUT_MS, "reading the price history");
        } catch {
          throw storeUnreachable();
        }
      },
      {
        response: { 200: PriceHistory, 400: ErrorBody, 503: ErrorBody },
        detail: describeRoute({
          summary: "Price history",
          description:
            "Stored ticks with from <= ts <= to (ms since the epoch), oldest first; to defaults to now, from to five minutes before it, at most an hour apart. With more than limit ticks in the window, the newest limit come back with truncated: true; ask again with to = the first tick's ts - 1 for older ones. Parameters are whole numbers given once; any other is a 400.",
          tags: ["market"],
          // The route reads its query itself (api/prices/service.ts): the contract's schema documents it.
          parameters: queryParameters(PriceHistoryQuery),
        }),
      },
    );
}
