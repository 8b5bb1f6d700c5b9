import { Type as t, type Static } from "@sinclair/typebox";

/**
 * A name a player picks for the leaderboard: 3 to 20 ASCII letters, digits,
 * spaces, `_` or `-`, neither starting nor ending with a space. Unique
 * regardless of case. ASCII only, so no look-alike letters pass as another's name.
 *
 * ```ts
 * const name: Nickname = "satoshi_42";
 * ```
 */
export const Nickname = t.String({ minLength: 3, maxLength: 20, pattern: "^[A-Za-z0-9_-](?:[A-Za-z0-9 _-]*[A-Za-z0-9_-])?$" });
export type Nickname = Static<typeof Nickname>;

/**
 * `PUT /api/players/me/nickname` (the body, and the answer) and
 * `GET /api/players/me/nickname` (null: the player has none yet, and is not listed).
 *
 * ```ts
 * const body: PlayerNickname = { nickname: "satoshi_42" };
 * ```
 */
export const PlayerNickname = t.Object({ nickname: Nickname }, { examples: [{ nickname: "satoshi_42" }] });
export type PlayerNickname = Static<typeof PlayerNickname>;

/**
 * `GET /api/players/me/nickname`.
 *
 * ```ts
 * const mine: CurrentNickname = { nickname: null };
 * ```
 */
export const CurrentNickname = t.Object({ nickname: t.Union([Nickname, t.Null()]) }, { examples: [{ nickname: "satoshi_42" }, { nickname: null }] });
export type CurrentNickname = Static<typeof CurrentNickname>;

/**
 * One line of the leaderboard: a nickname and its net winnings of the day.
 *
 * ```ts
 * const entry: LeaderboardEntry = { rank: 1, nickname: "satoshi_42", net: 12.5 };
 * ```
 */
export const LeaderboardEntry = t.Object({
  rank: t.Integer({ minimum: 1 }),
  nickname: t.String(),
  /** Payouts minus stakes of the player's bets settled won or lost this UTC day (void ones count zero). */
  net: t.Number(),
});
export type LeaderboardEntry = Static<typeof LeaderboardEntry>;

/**
 * `GET /api/leaderboard`: the UTC day's top 20 players with a nickname, best net first.
 *
 * ```ts
 * const board: Leaderboard = { day: "2026-12-02", entries: [{ rank: 1, nickname: "satoshi_42", net: 12.5 }] };
 * ```
 */
export const Leaderboard = t.Object(
  {
    day: t.String({ description: "YYYY-MM-DD, UTC" }),
    entries: t.Array(LeaderboardEntry),
  },
  {
    examples: [
      {
        day: "2026-12-02",
        entries: [
          { rank: 1, nickname: "satoshi_42", net: 12.5 },
          { rank: 2, nickname: "hal", net: 3.2 },
        ],
      },
    ],
  },
);
export type Leaderboard = Static<typeof Leaderboard>;
