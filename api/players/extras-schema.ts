import type { Database } from "bun:sqlite";

/**
 * The tables of recovery codes and nicknames, and the index the leaderboard
 * reads settled bets by. Every statement is idempotent: `openStore` has no
 * migration for them yet (it is to become migration 6, with this same SQL,
 * once migration 5 has shipped: the runner skips any version below the
 * file's `user_version`, so 6 must not reach a database before 5 does).
 *
 * ```ts
 * ensurePlayerExtras(openStore("/data/bets.db"));
 * ```
 */
export const PLAYER_EXTRAS_SQL = `
  -- One recovery code per player: only an HMAC of it, looked up by that HMAC.
  CREATE TABLE IF NOT EXISTS recovery_codes (
    player_id  TEXT    PRIMARY KEY REFERENCES players (id),
    code_hash  TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- Names shown on the leaderboard; unique regardless of (ASCII) case.
  CREATE TABLE IF NOT EXISTS nicknames (
    player_id TEXT    PRIMARY KEY REFERENCES players (id),
    nickname  TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(nickname) BETWEEN 3 AND 20),
    set_at    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- The day's won and lost bets in settlement order, with all the leaderboard sums:
  -- it reads this index alone, never the table.
  CREATE INDEX IF NOT EXISTS bets_settled ON bets (settled_at, player_id, stake_cents, payout_cents, status) WHERE status IN ('won', 'lost');
`;

/**
 * Creates what `PLAYER_EXTRAS_SQL` describes when it is missing.
 *
 * ```ts
 * const db = openStore(":memory:");
 * ensurePlayerExtras(db);
 * ```
 */
export function ensurePlayerExtras(db: Database): void {
  db.exec(PLAYER_EXTRAS_SQL);
}
