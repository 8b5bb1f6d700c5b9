import type { Database } from "bun:sqlite";

/**
 * A priced bet ready to be written: money in cents, the multiplier in hundredths.
 *
 * ```ts
 * const order: BetOrder = { id: "b1", playerId: "p1", stakeCents: 500, tStart: 1_700_000_005_000, tEnd: 1_700_000_010_000, lowCents: 4_201_000, highCents: 4_202_000, multiplierCenti: 235, createdAt: 1_700_000_001_234, idempotencyKey: null, quoteId: "mjuohs00-1", minMultiplierCenti: 230 };
 * ```
 */
export interface BetOrder {
  id: string;
  playerId: string;
  stakeCents: number;
  tStart: number;
  tEnd: number;
  lowCents: number;
  highCents: number;
  multiplierCenti: number;
  createdAt: number;
  idempotencyKey: string | null;
  /** The quote the player bet from, kept for audit; binds nothing. */
  quoteId?: string | null;
  /** The lowest multiplier the player accepted (hundredths); at most `multiplierCenti`. */
  minMultiplierCenti?: number | null;
}

/**
 * Where a bet stands: `open` until settled, then once and for all won, lost or void.
 *
 * ```ts
 * const status: BetStatus = "won";
 * ```
 */
export type BetStatus = "open" | "won" | "lost" | "void";

/**
 * A bet as stored.
 *
 * ```ts
 * bets.page("p1", { limit: 20 }); // BetRow[], newest first
 * ```
 */
export interface BetRow {
  id: string;
  player_id: string;
  stake_cents: number;
  t_start: number;
  t_end: number;
  price_low_cents: number;
  price_high_cents: number;
  multiplier_centi: number;
  status: BetStatus;
  payout_cents: number;
  created_at: number;
  settled_at: number | null;
  balance_after_cents: number;
  idempotency_key: string | null;
  /** The quote the bet was placed from (migration 5); null when it named none. */
  quote_id: string | null;
  /** The `min_multiplier` the bet carried, in hundredths; null when it named none. */
  min_multiplier_centi: number | null;
}

/**
 * What became of one order in its batch.
 *
 * ```ts
 * const outcome: PlaceOutcome = { kind: "insufficient_funds", balanceCents: 250 };
 * ```
 */
export type PlaceOutcome =
  | { kind: "placed"; bet: BetRow }
  /** The same Idempotency-Key was used before: the bet it placed. */
  | { kind: "replayed"; bet: BetRow }
  | { kind: "insufficient_funds"; balanceCents: number }
  | { kind: "unknown_player" }
  /** A cap held in the database across nodes (PostgreSQL's exposure tables) would be passed: nothing written. */
  | { kind: "limit_exceeded"; limit: "max_cell_liability" | "max_house_liability" | "max_open_bets" }
  /** PostgreSQL: the window starts too soon by the database's clock for the bet to be settled with certainty. */
  | { kind: "cell_locked" };

/**
 * What a bet pays when it wins: stake × multiplier, rounded down to the cent.
 *
 * ```ts
 * potentialPayoutCents(333, 275); // 915: 3.33 × 2.75 = 9.1575, paid 9.15
 * ```
 */
export function potentialPayoutCents(stakeCents: number, multiplierCenti: number): number {
  return Math.floor((stakeCents * multiplierCenti) / 100);
}

/**
 * The row a newly placed bet is stored as: open, nothing paid, the balance after its stake (both stores build it).
 *
 * ```ts
 * const row: BetRow = placedBetRow(order, 98_750);
 * ```
 */
export function placedBetRow(order: BetOrder, balanceAfterCents: number): BetRow {
  return {
    id: order.id,
    player_id: order.playerId,
    stake_cents: order.stakeCents,
    t_start: order.tStart,
    t_end: order.tEnd,
    price_low_cents: order.lowCents,
    price_high_cents: order.highCents,
    multiplier_centi: order.multiplierCenti,
    status: "open",
    payout_cents: 0,
    created_at: order.createdAt,
    settled_at: null,
    balance_after_cents: balanceAfterCents,
    idempotency_key: order.idempotencyKey,
    quote_id: order.quoteId ?? null,
    min_multiplier_centi: order.minMultiplierCenti ?? null,
  };
}

/**
 * Bets and their stakes in SQLite. `placeBatch` writes a whole batch of orders
 * in ONE transaction: per order, a debit in the ledger (the balance follows by
 * trigger, and the database refuses to let it go below zero) and the bet.
 * An order refused on its merits (funds) writes nothing and does not fail
 * the others.
 *
 * ```ts
 * const bets = createBetStore(db);
 * const [outcome] = bets.placeBatch([order]); // { kind: "placed", bet } or a refusal
 * ```
 */
export function createBetStore(db: Database) {
  const selectBalance = db.prepare("SELECT balance_cents FROM players WHERE id = ?1");
  const selectByKey = db.prepare("SELECT * FROM bets WHERE player_id = ?1 AND idempotency_key = ?2");
  const insertBet = db.prepare(
    `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents, idempotency_key,
                       quote_id, min_multiplier_centi)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`,
  );
  const insertStake = db.prepare("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES (?1, 'stake', ?2, ?3, ?4)");
  const selectOne = db.prepare("SELECT * FROM bets WHERE id = ?1 AND player_id = ?2");
  const selectPage = db.prepare(
    "SELECT * FROM bets WHERE player_id = ?1 AND id < ?2 AND (?3 IS NULL OR status = ?3) ORDER BY id DESC LIMIT ?4",
  );

  const place = (order: BetOrder): PlaceOutcome => {
    if (order.idempotencyKey !== null) {
      const earlier = selectByKey.get(order.playerId, order.idempotencyKey) as BetRow | null;
      if (earlier) return { kind: "replayed", bet: earlier };
    }
    const balance = (selectBalance.get(order.playerId) as { balance_cents: number } | null)?.balance_cents;
    if (balance === undefined) return { kind: "unknown_player" };
    if (balance < order.stakeCents) return { kind: "insufficient_funds", balanceCents: balance };
    const after = balance - order.stakeCents;
    insertBet.run(
      order.id,
      order.playerId,
      order.stakeCents,
      order.tStart,
      order.tEnd,
      order.lowCents,
      order.highCents,
      order.multiplierCenti,
      order.createdAt,
      after,
      order.idempotencyKey,
      order.quoteId ?? null,
      order.minMultiplierCenti ?? null,
    );
    insertStake.run(order.playerId, -order.stakeCents, order.id, order.createdAt);
    return {
      kind: "placed",
      bet: placedBetRow(order, after),
    };
  };
  const placeBatch = db.transaction((orders: readonly BetOrder[]) => orders.map(place));

  return {
    /** Writes the orders in one transaction; one outcome per order, in order. */
    placeBatch(orders: readonly BetOrder[]): PlaceOutcome[] {
      return placeBatch(orders);
    },
    /** The bet a player placed with this Idempotency-Key, if any. */
    byIdempotencyKey(playerId: string, key: string): BetRow | undefined {
      return (selectByKey.get(playerId, key) as BetRow | null) ?? undefined;
    },
    /** One of the player's bets; undefined when it does not exist or is someone else's. */
    get(playerId: string, betId: string): BetRow | undefined {
      return (selectOne.get(betId, playerId) as BetRow | null) ?? undefined;
    },
    /** The player's bets newest first, after the cursor (a bet id), optionally of one status. */
    page(playerId: string, options: { before?: string; status?: BetStatus; limit: number }): BetRow[] {
      return selectPage.all(playerId, options.before ?? "\uffff", options.status ?? null, options.limit) as BetRow[];
    },
  };
}

/**
 * The bet store (see `createBetStore`).
 *
 * ```ts
 * const bets: BetStore = createBetStore(db);
 * ```
 */
export type BetStore = ReturnType<typeof createBetStore>;
