import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { Tick } from "../../common/contracts/price.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { withTimeout } from "../../common/timeout.ts";
import { HttpError } from "../http/http-error.ts";

/** `GET /api/price`: the latest tick the price service stored, or 503 when there is none. */
export function priceRoutes({ ticks }: { ticks: TickStore }) {
  return new Elysia({ name: "prices" }).get(
    "/api/price",
    async () => {
      let latest: Tick | undefined;
      try {
        latest = await withTimeout(ticks.latest(), 1000, "reading the latest price");
      } catch {
        throw new HttpError(503, "unavailable", "price store is unreachable", [], { "retry-after": "1" });
      }
      if (!latest) throw new HttpError(503, "unavailable", "no price yet", [], { "retry-after": "1" });
      return latest;
    },
    { response: { 200: Tick, 503: ErrorBody } },
  );
}
