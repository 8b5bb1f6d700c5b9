import postgres from "postgres";
import { int8AsNumber, type PgSql } from "../../common/store/postgres.ts";
import { inTransaction, type PgTx } from "../../common/store/pg-transaction.ts";
import { type Audit, type AuditOptions, type AuditRows, auditOf, type SettlementRow } from "./audit.ts";
import { type BookRows, type Books, booksOf, type SettledBetRow } from "./books.ts";
import type { TimeRange } from "./report-args.ts";

// The same queries as books.ts and audit.ts on SQLite, in PostgreSQL's words: sums of
// BIGINT are NUMERIC there (cast back, so they parse as numbers), booleans are summed
// with FILTER, and ids are ordered by their bytes (COLLATE "C", as SQLite's BINARY)
// so both stores list the same examples in the same order.

/**
 * One connection to PostgreSQL for `api report`, read-only for its whole
 * session (`default_transaction_read_only`): the report cannot write even by
 * mistake, and it never migrates. `end()` it when done.
 *
 * ```ts
 * const sql = openReportConnection(process.env.DATABASE_URL!);
 * try { await readPostgresReport(sql, settings); } finally { await sql.end({ timeout: 5 }); }
 * ```
 */
export function openReportConnection(url: string): PgSql {
  return postgres(url, {
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    types: { bigint: int8AsNumber },
    connection: { application_name: "tap-report", default_transaction_read_only: true },
  }) as unknown as PgSql;
}

/**
 * The rows of `range`'s books from PostgreSQL, as `readBookRows` reads them
 * from SQLite (books.ts).
 *
 * ```ts
 * const rows = await inTransaction(sql, (tx) => readPostgresBookRows(tx, { from, to }, 5));
 * ```
 */
export async function readPostgresBookRows(tx: PgTx, { from, to }: TimeRange, top: number): Promise<BookRows> {
  const flows = await tx<BookRows["flows"]>`
    SELECT kind, coalesce(sum(amount_cents), 0)::bigint AS cents FROM ledger
    WHERE created_at >= ${from} AND created_at < ${to} GROUP BY kind`;
  const byStatus = await tx<BookRows["byStatus"]>`
    SELECT status, count(*) AS bets, sum(stake_cents)::bigint AS stake_cents, sum(payout_cents)::bigint AS payout_cents FROM bets
    WHERE t_end >= ${from} AND t_end < ${to} GROUP BY status`;
  const topWindows = await tx<BookRows["topWindows"]>`
    SELECT t_start, t_end, count(*) AS bets, sum(stake_cents)::bigint AS stake_cents,
           sum(stake_cents * multiplier_centi / 100)::bigint AS potential_payout_cents,
           sum(payout_cents)::bigint AS payout_cents, count(*) FILTER (WHERE status = 'open') AS open_bets
    FROM bets WHERE t_end >= ${from} AND t_end < ${to}
    GROUP BY t_start, t_end ORDER BY potential_payout_cents DESC, t_end LIMIT ${top}`;
  const settled = await tx<SettledBetRow[]>`
    SELECT b.stake_cents, b.payout_cents, b.price_low_cents AS low, b.price_high_cents AS high,
           (SELECT t.price_cents FROM ticks t WHERE t.ts <= b.created_at ORDER BY t.ts DESC LIMIT 1) AS spot
    FROM bets b WHERE b.t_end >= ${from} AND b.t_end < ${to} AND b.status IN ('won', 'lost')`;
  // Plain arrays: a result also carries the statement's count and columns.
  return { flows: [...flows], byStatus: [...byStatus], topWindows: [...topWindows], settled: [...settled] };
}

/**
 * The audit rows of the whole PostgreSQL database, as `readAuditRows` reads
 * them from SQLite (audit.ts); run it in one transaction for one snapshot.
 *
 * ```ts
 * const rows = await inTransaction(sql, (tx) => readPostgresAuditRows(tx, Date.now() - 60_000, 20));
 * ```
 */
export async function readPostgresAuditRows(tx: PgTx, deadline: number, examples: number): Promise<AuditRows> {
  const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
  const players = await count(tx`SELECT count(*) AS n FROM players`);
  const unbalanced = await tx<AuditRows["unbalanced"]>`
    SELECT p.id, p.balance_cents AS balance, coalesce(l.total, 0)::bigint AS ledger FROM players p
    LEFT JOIN (SELECT player_id, sum(amount_cents) AS total FROM ledger GROUP BY player_id) l ON l.player_id = p.id
    WHERE p.balance_cents <> coalesce(l.total, 0) OR p.balance_cents < 0 ORDER BY p.id COLLATE "C"`;
  const bets = await count(tx`SELECT count(*) AS n FROM bets`);
  const badStakes = await tx<AuditRows["badStakes"]>`
    SELECT b.id, b.stake_cents AS stake, count(l.id) AS entries, string_agg(l.amount_cents::text, ',' ORDER BY l.id) AS amounts FROM bets b
    LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake'
    GROUP BY b.id
    HAVING count(l.id) <> 1 OR min(l.amount_cents) <> -b.stake_cents OR bool_or(l.player_id <> b.player_id)
    ORDER BY b.id COLLATE "C"`;
  const settled = await count(tx`SELECT count(*) AS n FROM bets WHERE status <> 'open'`);
  const settlementRows = await tx<SettlementRow[]>`
    WITH credits AS (
      SELECT bet_id, count(*) FILTER (WHERE kind = 'payout') AS payouts, count(*) FILTER (WHERE kind = 'refund') AS refunds,
             sum(CASE kind WHEN 'payout' THEN amount_cents ELSE 0 END)::bigint AS paid,
             sum(CASE kind WHEN 'refund' THEN amount_cents ELSE 0 END)::bigint AS refunded,
             min(player_id) AS low_player, max(player_id) AS high_player
      FROM ledger WHERE kind IN ('payout', 'refund') GROUP BY bet_id)
    SELECT b.id, b.status, b.player_id, b.stake_cents, b.multiplier_centi, b.payout_cents,
           c.payouts, c.refunds, c.paid, c.refunded, (c.low_player <> b.player_id OR c.high_player <> b.player_id)::int AS other_players
    FROM bets b LEFT JOIN credits c ON c.bet_id = b.id
    WHERE c.bet_id IS NOT NULL OR b.status IN ('won', 'void') OR b.payout_cents <> 0`;
  const open = await count(tx`SELECT count(*) AS n FROM bets WHERE status = 'open'`);
  const overdue = await count(tx`SELECT count(*) AS n FROM bets WHERE t_end < ${deadline} AND status = 'open'`);
  const overdueExamples = await tx<AuditRows["overdueExamples"]>`
    SELECT id, t_end FROM bets WHERE t_end < ${deadline} AND status = 'open' ORDER BY t_end, id COLLATE "C" LIMIT ${examples}`;
  return {
    players,
    unbalanced: [...unbalanced],
    bets,
    badStakes: [...badStakes],
    settled,
    settlementRows: [...settlementRows],
    open,
    overdue,
    overdueExamples: [...overdueExamples],
  };
}

/**
 * What `readPostgresReport` reads: the books' range and settings, and how the audit judges.
 *
 * ```ts
 * const settings: PostgresReportSettings = { range: { from, to }, top: 5, houseEdge: 0.05, now: Date.now(), settleTimeoutMs: 60_000 };
 * ```
 */
export interface PostgresReportSettings extends AuditOptions {
  range: TimeRange;
  top: number;
  houseEdge: number;
}

/**
 * The books of a range and the audit of the whole PostgreSQL database, read
 * in one read-only REPEATABLE READ transaction: the books and every check see
 * one snapshot while the API nodes write on (they are never blocked).
 *
 * ```ts
 * const { books, audit } = await readPostgresReport(sql, { range, top: 5, houseEdge: 0.05, now: Date.now(), settleTimeoutMs: 60_000 });
 * ```
 */
export async function readPostgresReport(sql: PgSql, settings: PostgresReportSettings): Promise<{ books: Books; audit: Audit }> {
  const { range, top, houseEdge, now, settleTimeoutMs, examples = 20 } = settings;
  // Never sql.begin (a postgres.js bug: common/store/pg-transaction.ts).
  const [bookRows, auditRows] = await inTransaction(sql, async (tx) => {
    await tx`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
    return [await readPostgresBookRows(tx, range, top), await readPostgresAuditRows(tx, now - settleTimeoutMs, examples)] as const;
  });
  return { books: booksOf(bookRows, { houseEdge }), audit: auditOf(auditRows, settings) };
}
