import type { Database } from "bun:sqlite";
import type { TimeRange } from "./report-args.ts";

/**
 * The money that moved in a range, from the ledger (entries made in it).
 *
 * ```ts
 * const money: MoneyFlows = { stakes_cents: 120_000, payouts_cents: 104_500, refunds_cents: 1_000, grants_cents: 500_000, house_net_cents: 14_500 };
 * ```
 */
export interface MoneyFlows {
  stakes_cents: number;
  payouts_cents: number;
  refunds_cents: number;
  /** Starting balances given to new players: not the house's takings, shown apart. */
  grants_cents: number;
  /** Stakes less payouts and refunds: what the house kept. */
  house_net_cents: number;
}

/**
 * How much of what players staked came back to them, against the price's promise.
 *
 * ```ts
 * const rtp: ReturnToPlayer = { settled_stakes_cents: 100_000, settled_payouts_cents: 93_000, realised: 0.93, theoretical: 0.95, house_edge: 0.05 };
 * ```
 */
export interface ReturnToPlayer {
  /** Stakes of the won and lost bets (void bets were refunded: they played no part). */
  settled_stakes_cents: number;
  settled_payouts_cents: number;
  /** payouts / stakes; null when nothing was settled. */
  realised: number | null;
  /** 1 − HOUSE_EDGE: what the multipliers are priced to return. */
  theoretical: number;
  house_edge: number;
}

/**
 * One status's bets: how many, their stakes and what they paid.
 *
 * ```ts
 * const won: OutcomeCount = { bets: 12, stake_cents: 6_000, payout_cents: 14_100 };
 * ```
 */
export interface OutcomeCount {
  bets: number;
  stake_cents: number;
  payout_cents: number;
}

/**
 * The bets of a range by where they stand.
 *
 * ```ts
 * const outcomes: Outcomes = { open: zero, won: { bets: 12, stake_cents: 6_000, payout_cents: 14_100 }, lost: zero, void: zero };
 * ```
 */
export type Outcomes = Record<"open" | "won" | "lost" | "void", OutcomeCount>;

/**
 * One window's bets and what the house stood to pay on them if every one won.
 *
 * ```ts
 * const window: WindowExposure = { t_start: 1_796_212_805_000, t_end: 1_796_212_810_000, bets: 14, stake_cents: 7_000, potential_payout_cents: 31_450, payout_cents: 2_350, open_bets: 0 };
 * ```
 */
export interface WindowExposure {
  t_start: number;
  t_end: number;
  bets: number;
  stake_cents: number;
  /** Σ floor(stake × multiplier): the most the window could have cost. */
  potential_payout_cents: number;
  /** What it did pay (won bets). */
  payout_cents: number;
  open_bets: number;
}

/**
 * The house's books for a range: money from the ledger entries made in it,
 * bets (their outcomes, return and exposure) from the windows that ended in it.
 *
 * ```ts
 * const books: Books = readBooks(db, { from, to }, { houseEdge: 0.05, top: 5 });
 * books.money.house_net_cents;
 * ```
 */
export interface Books {
  money: MoneyFlows;
  return_to_player: ReturnToPlayer;
  /** The return to players of won and lost bets by how far their band was from the price when taken. */
  return_by_distance: DistanceReturn[];
  outcomes: Outcomes;
  top_windows: WindowExposure[];
}

/**
 * Won and lost bets whose band was `bands_away` bands from the band holding the price when they were accepted (the
 * last judged tick at or before then; null when no tick was stored before the bet), and what they returned.
 *
 * ```ts
 * const near: DistanceReturn = { bands_away: 1, bets: 120, stake_cents: 60_000, payout_cents: 55_800, realised: 0.93 };
 * ```
 */
export interface DistanceReturn {
  bands_away: number | null;
  bets: number;
  stake_cents: number;
  payout_cents: number;
  realised: number;
}

const STATUSES = ["open", "won", "lost", "void"] as const;

/**
 * What the books are made from: the rows a store's reader returns for a
 * range, the same on SQLite (`readBookRows`) and PostgreSQL
 * (`readPostgresBookRows` in postgres-reader.ts). Sums are whole cents, counts whole numbers.
 *
 * ```ts
 * const rows: BookRows = { flows: [{ kind: "stake", cents: -500 }], byStatus: [{ status: "lost", bets: 1, stake_cents: 500, payout_cents: 0 }], topWindows: [], settled: [] };
 * ```
 */
export interface BookRows {
  /** The ledger's entries made in the range, summed by kind (stakes negative). */
  flows: { kind: string; cents: number }[];
  /** The bets whose window ended in the range, by status. */
  byStatus: ({ status: string } & OutcomeCount)[];
  /** Those bets by window, the `top` largest potential payouts first (then the earliest end). */
  topWindows: WindowExposure[];
  /** Those bets won or lost, with the last judged tick's price at or before each was taken (null: none). */
  settled: SettledBetRow[];
}

/**
 * A won or lost bet, its band and the price when it was taken.
 *
 * ```ts
 * const row: SettledBetRow = { stake_cents: 500, payout_cents: 1_175, low: 4_200_000, high: 4_201_000, spot: 4_199_500 };
 * ```
 */
export interface SettledBetRow {
  stake_cents: number;
  payout_cents: number;
  low: number;
  high: number;
  spot: number | null;
}

/** Groups the range's won and lost bets by their distance from the price at acceptance, nearest first. */
function returnByDistance(rows: readonly SettledBetRow[]): DistanceReturn[] {
  const groups = new Map<number | null, DistanceReturn>();
  for (const row of rows) {
    const band = row.high - row.low;
    const away = row.spot === null ? null : Math.abs(row.low - Math.floor(row.spot / band) * band) / band;
    const group = groups.get(away) ?? { bands_away: away, bets: 0, stake_cents: 0, payout_cents: 0, realised: 0 };
    group.bets++;
    group.stake_cents += row.stake_cents;
    group.payout_cents += row.payout_cents;
    groups.set(away, group);
  }
  for (const group of groups.values()) group.realised = group.stake_cents > 0 ? group.payout_cents / group.stake_cents : 0;
  return [...groups.values()].sort((a, b) => (a.bands_away ?? Number.POSITIVE_INFINITY) - (b.bands_away ?? Number.POSITIVE_INFINITY));
}

/**
 * The books from a reader's rows: whichever store they came from, the same
 * rows give the same books.
 *
 * ```ts
 * const books = booksOf(readBookRows(db, range, 5), { houseEdge: 0.05 });
 * ```
 */
export function booksOf(rows: BookRows, { houseEdge }: { houseEdge: number }): Books {
  const flow = (kind: string) => rows.flows.find((row) => row.kind === kind)?.cents ?? 0;
  const stakes = 0 - flow("stake"); // not -0 when there are none
  const payouts = flow("payout");
  const refunds = flow("refund");
  const outcomes = Object.fromEntries(
    STATUSES.map((status) => {
      const row = rows.byStatus.find((r) => r.status === status);
      return [status, { bets: row?.bets ?? 0, stake_cents: row?.stake_cents ?? 0, payout_cents: row?.payout_cents ?? 0 }];
    }),
  ) as Outcomes;
  const settledStakes = outcomes.won.stake_cents + outcomes.lost.stake_cents;
  const settledPayouts = outcomes.won.payout_cents;
  return {
    money: { stakes_cents: stakes, payouts_cents: payouts, refunds_cents: refunds, grants_cents: flow("grant"), house_net_cents: stakes - payouts - refunds },
    return_to_player: {
      settled_stakes_cents: settledStakes,
      settled_payouts_cents: settledPayouts,
      realised: settledStakes > 0 ? settledPayouts / settledStakes : null,
      theoretical: 1 - houseEdge,
      house_edge: houseEdge,
    },
    return_by_distance: returnByDistance(rows.settled),
    outcomes,
    top_windows: rows.topWindows,
  };
}

/**
 * The rows of `range`'s books from SQLite (it only reads). The bets table is
 * ordered by window end, so the bets of a range are a range scan.
 *
 * ```ts
 * const rows = readBookRows(new Database("/data/bets.db", { readonly: true }), { from, to }, 5);
 * ```
 */
export function readBookRows(db: Database, { from, to }: TimeRange, top: number): BookRows {
  return {
    flows: db
      .query(
        `SELECT kind, coalesce(sum(amount_cents), 0) AS cents FROM ledger
         WHERE created_at >= ?1 AND created_at < ?2 GROUP BY kind`,
      )
      .all(from, to) as BookRows["flows"],
    byStatus: db
      .query(
        `SELECT status, count(*) AS bets, sum(stake_cents) AS stake_cents, sum(payout_cents) AS payout_cents FROM bets
         WHERE t_end >= ?1 AND t_end < ?2 GROUP BY status`,
      )
      .all(from, to) as BookRows["byStatus"],
    topWindows: db
      .query(
        `SELECT t_start, t_end, count(*) AS bets, sum(stake_cents) AS stake_cents,
                sum(stake_cents * multiplier_centi / 100) AS potential_payout_cents,
                sum(payout_cents) AS payout_cents, sum(status = 'open') AS open_bets
         FROM bets WHERE t_end >= ?1 AND t_end < ?2
         GROUP BY t_start, t_end ORDER BY potential_payout_cents DESC, t_end LIMIT ?3`,
      )
      .all(from, to, top) as WindowExposure[],
    settled: db
      .query(
        `SELECT b.stake_cents, b.payout_cents, b.price_low_cents AS low, b.price_high_cents AS high,
                (SELECT t.price_cents FROM ticks t WHERE t.ts <= b.created_at ORDER BY t.ts DESC LIMIT 1) AS spot
         FROM bets b WHERE b.t_end >= ?1 AND b.t_end < ?2 AND b.status IN ('won', 'lost')`,
      )
      .all(from, to) as SettledBetRow[],
  };
}

/**
 * Reads the books of `range` (UTC, `[from, to)`) from a SQLite database; it
 * only reads. Money is the ledger's entries made in the range; a bet belongs to
 * the range its window ended in, so outcomes, the return to players and the
 * exposures all count the same bets.
 *
 * ```ts
 * const db = new Database("/data/bets.db", { readonly: true });
 * readBooks(db, { from: Date.UTC(2026, 11, 2), to: Date.UTC(2026, 11, 3) }, { houseEdge: 0.05, top: 5 });
 * ```
 */
export function readBooks(db: Database, range: TimeRange, { houseEdge, top }: { houseEdge: number; top: number }): Books {
  return booksOf(readBookRows(db, range, top), { houseEdge });
}
