import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { openStore } from "../../common/store/sqlite.ts";
import { createNicknames } from "../players/nicknames.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createLeaderboard, LEADERBOARD_SIZE } from "./leaderboard.ts";

const DAY = Date.UTC(2026, 11, 2);
let betSeq = 0;

/** A settled bet written straight to the table: the leaderboard reads only what settlement leaves there. */
function settled(db: Database, playerId: string, status: "won" | "lost" | "void" | "open", stakeCents: number, payoutCents: number, settledAt: number | null) {
  const id = `b${++betSeq}`;
  db.run(
    `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, status, payout_cents, created_at, settled_at, balance_after_cents)
     VALUES (?1, ?2, ?3, 1, 2, 100, 200, 200, ?4, ?5, 1, ?6, 0)`,
    [id, playerId, stakeCents, status, payoutCents, settledAt],
  );
}

function setup(players: string[]) {
  const db = openStore(":memory:");
  const store = createPlayerStore(db);
  for (const id of players) store.create(id, 100_000, 1);
  return { db, names: createNicknames(db) };
}

describe("createLeaderboard", () => {
  test("the day's payouts minus stakes of won and lost bets, per nickname, best first", () => {
    const { db, names } = setup(["a", "b", "c", "anon"]);
    names.set("a", "alice", 1);
    names.set("b", "bob", 1);
    names.set("c", "carol", 1);
    settled(db, "a", "won", 100, 350, DAY + 1000); // +2.50
    settled(db, "a", "lost", 100, 0, DAY + 2000); // -1.00
    settled(db, "b", "won", 1000, 5000, DAY + 3000); // +40.00
    settled(db, "b", "void", 1000, 1000, DAY + 3000); // refunded: zero
    settled(db, "b", "open", 500, 0, null); // not settled
    settled(db, "c", "lost", 250, 0, DAY - 1); // yesterday
    settled(db, "c", "lost", 50, 0, DAY + 86_399_999); // today's last ms
    settled(db, "anon", "won", 100, 10_000, DAY + 5); // no nickname: not listed
    const board = createLeaderboard(db, { cacheMs: 0 }).read(DAY + 43_200_000);
    expect(board).toEqual({
      day: "2026-12-02",
      entries: [
        { rank: 1, nickname: "bob", net: 40 },
        { rank: 2, nickname: "alice", net: 1.5 },
        { rank: 3, nickname: "carol", net: -0.5 },
      ],
    });
  });

  test(`lists at most ${LEADERBOARD_SIZE}`, () => {
    const ids = Array.from({ length: 25 }, (_, i) => `p${i}`);
    const { db, names } = setup(ids);
    ids.forEach((id, i) => {
      names.set(id, `player ${i}`, 1);
      settled(db, id, "won", 100, 200 + i, DAY + i);
    });
    const entries = createLeaderboard(db, { cacheMs: 0 }).read(DAY + 1000).entries;
    expect(entries).toHaveLength(LEADERBOARD_SIZE);
    expect(entries[0]).toEqual({ rank: 1, nickname: "player 24", net: 1.24 });
    expect(entries.at(-1)).toEqual({ rank: 20, nickname: "player 5", net: 1.05 });
  });

  test("a read within cacheMs is the cached one; after it, or on a new day, the database is read again", () => {
    const { db, names } = setup(["a"]);
    names.set("a", "alice", 1);
    const board = createLeaderboard(db, { cacheMs: 1000 });
    expect(board.read(DAY + 10).entries).toEqual([]);
    settled(db, "a", "won", 100, 300, DAY + 20);
    expect(board.read(DAY + 500).entries).toEqual([]);
    expect(board.read(DAY + 1010).entries).toEqual([{ rank: 1, nickname: "alice", net: 2 }]);
    expect(board.read(DAY + 86_400_000).day).toBe("2026-12-03");
    expect(board.read(DAY + 86_400_100).entries).toEqual([]);
  });

  test("reads the day's settled bets from the bets_settled index", () => {
    const { db } = setup([]);
    const plan = db
      .query(
        "EXPLAIN QUERY PLAN SELECT player_id, sum(payout_cents - stake_cents) FROM bets WHERE status IN ('won', 'lost') AND settled_at >= 1 AND settled_at < 2 GROUP BY player_id",
      )
      .all() as { detail: string }[];
    expect(plan.map((row) => row.detail).join("\n")).toContain("COVERING INDEX bets_settled");
  });
});
