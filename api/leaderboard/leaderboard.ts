import type { Database } from "bun:sqlite";
import type { Leaderboard } from "../../common/contracts/leaderboard.ts";
import { fromCents } from "../../common/money.ts";

/**
 * How many players the leaderboard lists.
 *
 * ```ts
 * board.read(Date.now()).entries.length <= LEADERBOARD_SIZE; // true
 * ```
 */
export const LEADERBOARD_SIZE = 20;
const DAY_MS = 86_400_000;

/**
 * The UTC day's best net winnings among players with a nickname: payouts
 * minus stakes of the bets settled won or lost that day (a void bet was
 * refunded: it counts zero). Read from the database, at most once per
 * `cacheMs`, so settlements show within that time.
 *
 * ```ts
 * const board = createLeaderboard(db, { cacheMs: 1000 });
 * board.read(Date.now()); // { day: "2026-12-02", entries: [{ rank: 1, nickname: "satoshi", net: 12.5 }] }
 * ```
 */
export function createLeaderboard(db: Database, { cacheMs = 1000 }: { cacheMs?: number } = {}) {
  // Reads only the bets_settled index: the day's settled bets, grouped by player.
  const top = db.prepare(`
    SELECT n.nickname AS nickname, s.net AS net
    FROM (SELECT player_id, sum(payout_cents - stake_cents) AS net
          FROM bets WHERE status IN ('won', 'lost') AND settled_at >= ?1 AND settled_at < ?2
          GROUP BY player_id) AS s
    JOIN nicknames AS n ON n.player_id = s.player_id
    ORDER BY s.net DESC, n.nickname
    LIMIT ?3`);
  let cached: { at: number; day: number; board: Leaderboard } | undefined;
  return {
    read(now: number): Leaderboard {
      const day = Math.floor(now / DAY_MS);
      if (cached && cached.day === day && now - cached.at < cacheMs && now >= cached.at) return cached.board;
      const start = day * DAY_MS;
      const rows = top.all(start, start + DAY_MS, LEADERBOARD_SIZE) as { nickname: string; net: number }[];
      const board: Leaderboard = {
        day: new Date(start).toISOString().slice(0, 10),
        entries: rows.map((row, i) => ({ rank: i + 1, nickname: row.nickname, net: fromCents(row.net) })),
      };
      cached = { at: now, day, board };
      return board;
    },
  };
}

/**
 * The leaderboard reader (see `createLeaderboard`).
 *
 * ```ts
 * const board: LeaderboardReader = createLeaderboard(db);
 * ```
 */
export type LeaderboardReader = ReturnType<typeof createLeaderboard>;
