import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { Grid } from "../../common/contracts/grid.ts";
import { HttpError } from "../http/http-error.ts";
import { describeRoute } from "../openapi/operation.ts";
import type { GridService } from "./grid-service.ts";

/**
 * `GET /api/grid`: the priced grid as of now; 503 while there is no fresh price.
 *
 * ```ts
 * new Elysia().use(gridRoutes({ grid: createGridService({ market, settings }) }));
 * ```
 */
export function gridRoutes({ grid, now = Date.now }: { grid: GridService; now?: () => number }) {
  return new Elysia({ name: "grid" }).get(
    "/api/grid",
    ({ set }) => {
      const current = grid.current(now());
      if (!current) throw new HttpError(503, "unavailable", "no fresh price to quote from", [], { "retry-after": "1" });
      set.headers["cache-control"] = "no-store";
      return current;
    },
    {
      response: { 200: Grid, 503: ErrorBody },
      detail: describeRoute({
        summary: "The priced grid",
        description: "The cells on offer now, each with the multiplier it pays if the price touches its band within its window; 503 while there is no fresh price. The websocket's grid topic pushes the same about once a second.",
        tags: ["market"],
      }),
    },
  );
}
