import { Elysia } from "elysia";
import { BetAccepted, BetRequest } from "../../common/contracts/bet.ts";
import { ErrorBody } from "../../common/contracts/error.ts";
import type { GroupCommitter } from "./group-commit.ts";
import { type NewBet, prepareBet } from "./service.ts";

/** `POST /api/bets`: validated, stored in SQLite (group-committed), answered 202 once on disk. */
export function betRoutes({ commits, now = Date.now }: { commits: GroupCommitter<NewBet>; now?: () => number }) {
  return new Elysia({ name: "bets" }).post(
    "/api/bets",
    async ({ body, set }) => {
      const bet = prepareBet(body, now());
      await commits.submit(bet);
      set.status = 202;
      return { status: "accepted", bet_id: bet.id, message: "bet stored" } as const;
    },
    { body: BetRequest, response: { 202: BetAccepted, 400: ErrorBody } },
  );
}
