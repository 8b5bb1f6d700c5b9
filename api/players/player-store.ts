import type { Database } from "bun:sqlite";

/**
 * Players and their balances. Money moves only by ledger entries; the balance follows by trigger.
 *
 * ```ts
 * const players = createPlayerStore(db);
 * players.create("p1", 100_000, Date.now());
 * players.balance("p1"); // 100000
 * ```
 */
export function createPlayerStore(db: Database) {
  const insertPlayer = db.prepare("INSERT INTO players (id, created_at) VALUES (?1, ?2)");
  const insertGrant = db.prepare("INSERT INTO ledger (player_id, kind, amount_cents, created_at) VALUES (?1, 'grant', ?2, ?3)");
  const selectBalance = db.prepare("SELECT balance_cents FROM players WHERE id = ?1");
  const selectExposure = db.prepare(
    "SELECT count(*) AS open_bets, coalesce(sum(stake_cents), 0) AS staked, coalesce(sum(stake_cents * multiplier_centi / 100), 0) AS payout FROM bets WHERE player_id = ?1 AND status = 'open'",
  );
  const selectTotals = db.prepare(
    "SELECT count(*) AS bets, coalesce(sum(stake_cents), 0) AS staked, coalesce(sum(CASE status WHEN 'void' THEN stake_cents ELSE payout_cents END), 0) AS paid FROM bets WHERE player_id = ?1",
  );
  const create = db.transaction((id: string, grantCents: number, now: number) => {
    insertPlayer.run(id, now);
    if (grantCents > 0) insertGrant.run(id, grantCents, now);
  });
  return {
    /** A new player with a starting grant, in one transaction. */
    create(id: string, grantCents: number, now: number): void {
      create(id, grantCents, now);
    },
    /** The balance in cents, or undefined for an unknown player. */
    balance(id: string): number | undefined {
      return (selectBalance.get(id) as { balance_cents: number } | null)?.balance_cents;
    },
    /** Open bets: how many, their stakes and what they would pay if all won. */
    exposure(id: string): { openBets: number; stakedCents: number; potentialPayoutCents: number } {
      const row = selectExposure.get(id) as { open_bets: number; staked: number; payout: number };
      return { openBets: row.open_bets, stakedCents: row.staked, potentialPayoutCents: row.payout };
    },
    /** Every bet the player ever placed: how many, their stakes, and what they paid back (payouts and refunds). */
    totals(id: string): { bets: number; stakedCents: number; paidOutCents: number } {
      const row = selectTotals.get(id) as { bets: number; staked: number; paid: number };
      return { bets: row.bets, stakedCents: row.staked, paidOutCents: row.paid };
    },
  };
}

/**
 * The player store (see `createPlayerStore`).
 *
 * ```ts
 * const players: PlayerStore = createPlayerStore(db);
 * ```
 */
export type PlayerStore = ReturnType<typeof createPlayerStore>;
