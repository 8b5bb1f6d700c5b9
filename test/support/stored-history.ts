import { Database } from "bun:sqlite";
import type { BetCell, StoredTick } from "./recompute-settlement.ts";

/** A stored bet as settlement left it. */
export interface StoredBet extends BetCell {
  player_id: string;
  status: string;
  payout_cents: number;
}

/** A settlement credit in the ledger (a payout or a refund). */
export interface StoredCredit {
  bet_id: string;
  kind: "payout" | "refund";
  amount_cents: number;
}

/** What a recomputation reads from the database, as of one instant. */
export interface StoredHistory {
  ticks: StoredTick[];
  bets: StoredBet[];
  credits: StoredCredit[];
  /** A time at or after the snapshot (ms since the epoch). */
  readAt: number;
}

/**
 * Reads the ticks, bets and settlement credits from the SQLite file read-only, in one
 * read transaction, so they are one consistent snapshot while the API keeps writing.
 *
 * ```ts
 * const { ticks, bets } = readStoredHistory(dbPath);
 * ```
 */
export function readStoredHistory(dbPath: string): StoredHistory {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.transaction(() => ({
      ticks: db.query("SELECT ts, seq, price, price_cents, sig, continuous FROM ticks ORDER BY ts").all() as StoredTick[],
      bets: db
        .query("SELECT id, player_id, t_start, t_end, price_low_cents, price_high_cents, stake_cents, multiplier_centi, status, payout_cents FROM bets ORDER BY t_end, id")
        .all() as StoredBet[],
      credits: db.query("SELECT bet_id, kind, amount_cents FROM ledger WHERE kind IN ('payout', 'refund') ORDER BY id").all() as StoredCredit[],
      // Taken after the reads: whatever the API decided by the clock in the snapshot, it decided before this.
      readAt: Date.now(),
    }))();
  } finally {
    db.close();
  }
}
