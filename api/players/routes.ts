import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { CurrentNickname, PlayerNickname } from "../../common/contracts/leaderboard.ts";
import type { SessionTokens } from "../../common/sessions/token.ts";
import { HttpError } from "../http/http-error.ts";
import { describeRoute } from "../openapi/operation.ts";
import { bearerAuth } from "../sessions/auth.ts";
import type { NicknameOperations, PlayerOperations } from "../store/store.ts";

/**
 * `PUT /api/players/me/nickname` (set or change the token's player's
 * leaderboard name: 409 `nickname_taken` when another player has it in any
 * case) and `GET /api/players/me/nickname`.
 *
 * ```ts
 * new Elysia().use(playerRoutes({ tokens, players: store.players, nicknames: store.nicknames }));
 * ```
 */
export function playerRoutes({ tokens, players, nicknames, now = Date.now }: { tokens: SessionTokens; players: Pick<PlayerOperations, "balance">; nicknames: NicknameOperations; now?: () => number }) {
  const known = async (playerId: string) => {
    if ((await players.balance(playerId)) === undefined) throw new HttpError(401, "unauthorized", "no such player");
  };
  return new Elysia({ name: "players" })
    .use(bearerAuth({ tokens, now }))
    .get(
      "/api/players/me/nickname",
      async ({ playerId }) => {
        await known(playerId);
        return { nickname: (await nicknames.get(playerId)) ?? null };
      },
      {
        response: { 200: CurrentNickname, 401: ErrorBody },
        detail: describeRoute({ summary: "My nickname", description: "The token's player's leaderboard name, or null before one is set.", tags: ["players"], bearer: true }),
      },
    )
    .put(
      "/api/players/me/nickname",
      async ({ playerId, body }) => {
        await known(playerId);
        if ((await nicknames.set(playerId, body.nickname, now())) === "taken") {
          throw new HttpError(409, "nickname_taken", "another player has this nickname");
        }
        return { nickname: body.nickname };
      },
      {
        body: PlayerNickname,
        response: { 200: PlayerNickname, 401: ErrorBody, 409: ErrorBody },
        detail: describeRoute({
          summary: "Set my nickname",
          description: "Sets or changes the token's player's leaderboard name; 409 nickname_taken when another player has it in any case.",
          tags: ["players"],
          bearer: true,
          errors: { 409: ["nickname_taken"] },
        }),
      },
    );
}
