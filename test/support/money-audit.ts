import { Database } from "bun:sqlite";

/** What a money audit of the database found; every list empty means the books balance. */
export interface MoneyAudit {
  players: number;
  bets: number;
  /** Players whose stored balance differs from the sum of their ledger, or is negative. */
  unbalanced: string[];
  /** Bets without exactly one stake entry of minus their stake. */
  betsWithoutStake: string[];
  /** Stake entries whose bet does not exist. */
  stakesWithoutBet: number;
}

/** Reads the database file read-only and checks the ledger's invariants. */
export function auditMoney(dbPath: string): MoneyAudit {
  const db = new Database(dbPath, { readonly: true });
  try {
    const unbalanced = db
      .query(
        `SELECT p.id FROM players p LEFT JOIN (SELECT player_id, sum(amount_cents) AS total FROM ledger GROUP BY player_id) l ON l.player_id = p.id
         WHERE p.balance_cents != coalesce(l.total, 0) OR p.balance_cents < 0`,
      )
      .all() as { id: string }[];
    const betsWithoutStake = db
      .query(
        `SELECT b.id FROM bets b WHERE (SELECT count(*) FROM ledger l WHERE l.bet_id = b.id AND l.kind = 'stake' AND l.amount_cents = -b.stake_cents AND l.player_id = b.player_id) != 1`,
      )
      .all() as { id: string }[];
    const stakesWithoutBet = db.query("SELECT count(*) AS n FROM ledger l WHERE l.kind = 'stake' AND NOT EXISTS (SELECT 1 FROM bets b WHERE b.id = l.bet_id)").get() as { n: number };
    return {
      players: (db.query("SELECT count(*) AS n FROM players").get() as { n: number }).n,
      bets: (db.query("SELECT count(*) AS n FROM bets").get() as { n: number }).n,
      unbalanced: unbalanced.map((r) => r.id),
      betsWithoutStake: betsWithoutStake.map((r) => r.id),
      stakesWithoutBet: stakesWithoutBet.n,
    };
  } finally {
    db.close();
  }
}

/** The money of the whole game, read two ways: what players hold, and what the bets left with the house. */
export interface HouseBooks {
  /** Every grant made to players, in cents. */
  grants: number;
  /** Every player's balance, summed. */
  balances: number;
  /** From the bets alone, not the ledger: stakes kept (lost, and open ones) less payouts. */
  takings: number;
}

/** Reads the books read-only; `balances + takings` must equal `grants`. */
export function houseBooks(dbPath: string): HouseBooks {
  const db = new Database(dbPath, { readonly: true });
  try {
    const sum = (sql: string) => (db.query(sql).get() as { s: number | null }).s ?? 0;
    return {
      grants: sum("SELECT sum(amount_cents) AS s FROM ledger WHERE kind = 'grant'"),
      balances: sum("SELECT sum(balance_cents) AS s FROM players"),
      takings: sum("SELECT sum(CASE status WHEN 'lost' THEN stake_cents WHEN 'won' THEN stake_cents - payout_cents WHEN 'open' THEN stake_cents ELSE 0 END) AS s FROM bets"),
    };
  } finally {
    db.close();
  }
}
