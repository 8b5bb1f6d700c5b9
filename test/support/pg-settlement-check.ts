/**
 * What a PostgreSQL store holds after a run, checked against the rules: the
 * ticks, bets and bet ledger rows read back, every bet compared with its
 * independent recomputation (test/support/recompute-settlement.ts), and the
 * players whose balance is not their ledger.
 */
import type postgres from "postgres";
import { type Recomputed, recomputeSettlements, type SettlementRules, type StoredTick } from "./recompute-settlement.ts";

/** A stored bet, the columns settlement and its check need. */
export interface PgBet {
  id: string;
  player_id: string;
  t_start: number;
  t_end: number;
  price_low_cents: number;
  price_high_cents: number;
  stake_cents: number;
  multiplier_centi: number;
  status: string;
  payout_cents: number;
}

/**
 * The stored history of a run and when it was read.
 *
 * ```ts
 * const history: PgHistory = await readPgHistory(sql);
 * ```
 */
export interface PgHistory {
  ticks: StoredTick[];
  bets: PgBet[];
  ledger: { bet_id: string; kind: string; amount_cents: number }[];
  readAt: number;
}

/**
 * Reads the judged ticks (in time order), every bet and every bet's ledger rows (in order).
 *
 * ```ts
 * const { ticks, bets, ledger, readAt } = await readPgHistory(sql);
 * ```
 */
export async function readPgHistory(sql: postgres.Sql): Promise<PgHistory> {
  const readAt = Date.now();
  const ticks = (await sql`SELECT ts, seq, price, price_cents, continuous FROM ticks ORDER BY ts`).map((row) => ({
    ts: Number(row.ts),
    seq: row.seq === null ? null : Number(row.seq),
    price: Number(row.price),
    price_cents: Number(row.price_cents),
    continuous: Number(row.continuous),
  }));
  const bets = (await sql`SELECT id, player_id, t_start, t_end, price_low_cents, price_high_cents, stake_cents, multiplier_centi, status, payout_cents FROM bets`).map((row) => ({
    id: String(row.id),
    player_id: String(row.player_id),
    t_start: Number(row.t_start),
    t_end: Number(row.t_end),
    price_low_cents: Number(row.price_low_cents),
    price_high_cents: Number(row.price_high_cents),
    stake_cents: Number(row.stake_cents),
    multiplier_centi: Number(row.multiplier_centi),
    status: String(row.status),
    payout_cents: Number(row.payout_cents),
  }));
  const ledger = (await sql`SELECT bet_id, kind, amount_cents FROM ledger WHERE bet_id IS NOT NULL ORDER BY id`).map((row) => ({
    bet_id: String(row.bet_id),
    kind: String(row.kind),
    amount_cents: Number(row.amount_cents),
  }));
  return { ticks, bets, ledger, readAt };
}

/**
 * Every bet whose status, payout, stake (exactly one, of its amount) or
 * settlement credit (at most one) differs from what the rules recompute from
 * the stored ticks; empty when all agree.
 *
 * ```ts
 * expect(settlementDifferences(history, { staleMs: 1000, timeoutMs: 5000 })).toEqual([]);
 * ```
 */
export function settlementDifferences({ ticks, bets, ledger, readAt }: PgHistory, rules: Omit<SettlementRules, "now">) {
  const expected = recomputeSettlements(ticks, bets, { ...rules, now: readAt });
  const ledgerByBet = Map.groupBy(ledger, (row) => row.bet_id);
  return bets.flatMap((bet) => {
    const want = expected.get(bet.id) as Recomputed;
    const rows = ledgerByBet.get(bet.id) ?? [];
    const stakes = rows.filter((row) => row.kind === "stake");
    const credits = rows.filter((row) => row.kind !== "stake").map(({ kind, amount_cents }) => ({ kind, amount_cents }));
    const agrees =
      bet.status === want.status &&
      bet.payout_cents === want.payout_cents &&
      stakes.length === 1 &&
      stakes[0]!.amount_cents === -bet.stake_cents &&
      JSON.stringify(credits) === JSON.stringify(want.credit ? [want.credit] : []);
    return agrees ? [] : [{ bet: bet.id, api: { status: bet.status, payout_cents: bet.payout_cents, stakes, credits }, rules: want }];
  });
}

/**
 * The players whose balance is not the sum of their ledger, or whose count
 * of open bets (`players.open_bets`, which MAX_OPEN_BETS reads) is not the
 * number of their open bets.
 *
 * ```ts
 * expect(await unbalancedPlayers(sql)).toEqual([]);
 * ```
 */
export async function unbalancedPlayers(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql`
    SELECT p.id FROM players p
    WHERE p.balance_cents <> (SELECT coalesce(sum(l.amount_cents), 0) FROM ledger l WHERE l.player_id = p.id)
       OR p.open_bets <> (SELECT count(*) FROM bets b WHERE b.player_id = p.id AND b.status = 'open')`;
  return rows.map((row) => String(row.id));
}
