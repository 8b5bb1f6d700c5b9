import { Elysia } from "elysia";
import { Leaderboard } from "../../common/contracts/leaderboard.ts";
import { describeRoute } from "../openapi/operation.ts";
import type { LeaderboardOperations } from "../store/store.ts";

/**
 * `GET /api/leaderboard`: the UTC day's top 20 by net winnings (public, no personal data: nicknames only).
 *
 * ```ts
 * new Elysia().use(leaderboardRoutes({ leaderboard: store.leaderboard }));
 * ```
 */
export function leaderboardRoutes({ leaderboard, now = Date.now }: { leaderboard: LeaderboardOperations; now?: () => number }) {
  return new Elysia({ name: "leaderboard" }).get("/api/leaderboard", () => leaderboard.read(now()), {
    response: { 200: Leaderboard },
    detail: describeRoute({
      summary: "Today's leaderboard",
      description: "The UTC day's top 20 players with a nickname by net winnings (payouts minus stakes of bets settled won or lost that day; void bets count zero), best first.",
      tags: ["market"],
    }),
  });
}
