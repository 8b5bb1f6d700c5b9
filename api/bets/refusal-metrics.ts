import { counter } from "../../common/metrics/registry.ts";
import { BetRefused } from "./bet-refused.ts";
import type { BetPlacement } from "./placement.ts";

/**
 * The placement service with every refusal counted in
 * `tap_bets_refused_total` by its reason (`BetRefused`'s, bounded); the
 * answer and the error are passed on as they are. Accepted bets are counted
 * where a stored bet joins the settlement book (`tap_bets_accepted_total`), so
 * a retry answered from an earlier bet is not counted twice.
 *
 * ```ts
 * betRoutes({ tokens, placement: countRefusals(placement), bets });
 * ```
 */
export function countRefusals(placement: BetPlacement): BetPlacement {
  const refused = counter<"reason">({ name: "tap_bets_refused_total", help: "Bets refused, by reason (the error code's cause: cell_locked, quote_changed, limit_exceeded, ...).", labelNames: ["reason"] });
  return {
    place(playerId, request, idempotencyKey) {
      return placement.place(playerId, request, idempotencyKey).catch((error: unknown) => {
        if (error instanceof BetRefused) refused.inc({ reason: error.reason });
        throw error;
      });
    },
  };
}
