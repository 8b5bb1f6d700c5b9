import type { Database } from "bun:sqlite";

/**
 * Players' leaderboard names (validated by the `Nickname` contract before they get here).
 *
 * ```ts
 * const names = createNicknames(db);
 * names.set("p1", "satoshi", Date.now()); // "ok"
 * names.set("p2", "SATOSHI", Date.now()); // "taken"
 * names.get("p1"); // "satoshi"
 * ```
 */
export function createNicknames(db: Database) {
  const upsert = db.prepare(
    "INSERT INTO nicknames (player_id, nickname, set_at) VALUES (?1, ?2, ?3) ON CONFLICT (player_id) DO UPDATE SET nickname = excluded.nickname, set_at = excluded.set_at",
  );
  const select = db.prepare("SELECT nickname FROM nicknames WHERE player_id = ?1");
  return {
    /** Sets or changes the player's nickname; "taken" when another player has it in any case. */
    set(playerId: string, nickname: string, now: number): "ok" | "taken" {
      try {
        upsert.run(playerId, nickname, now);
        return "ok";
      } catch (error) {
        if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") return "taken";
        throw error;
      }
    },
    /** The player's nickname, or undefined when they have none. */
    get(playerId: string): string | undefined {
      return (select.get(playerId) as { nickname: string } | null)?.nickname;
    },
  };
}

/**
 * The nickname store (see `createNicknames`).
 *
 * ```ts
 * const names: Nicknames = createNicknames(db);
 * ```
 */
export type Nicknames = ReturnType<typeof createNicknames>;
