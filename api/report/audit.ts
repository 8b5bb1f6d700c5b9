import type { Database } from "bun:sqlite";

/**
 * One check of the audit: how many things it looked at, how many were wrong,
 * and the first few of them (ids with what is wrong).
 *
 * ```ts
 * const check: AuditCheck = { checked: 52, failed: 1, examples: [{ id: "p7", problem: "balance 10001, ledger 10000" }] };
 * ```
 */
export interface AuditCheck {
  checked: number;
  failed: number;
  examples: { id: string; problem: string }[];
}

/**
 * The audit of the whole database: `ok` only when every check found nothing.
 *
 * ```ts
 * const audit: Audit = auditBooks(db, { now: Date.now(), settleTimeoutMs: 60_000 });
 * if (!audit.ok) process.exitCode = 1;
 * ```
 */
export interface Audit {
  ok: boolean;
  /** The time open bets were judged overdue against. */
  at: number;
  settle_timeout_ms: number;
  /** Every balance equals the sum of its ledger, and none is negative. */
  balances: AuditCheck;
  /** Every bet has exactly one stake debit: minus its stake, by its player. */
  stakes: AuditCheck;
  /** Won: one payout of what it won; void: one refund of its stake; lost and open: no credit. */
  settlements: AuditCheck;
  /** No bet is still open `settle_timeout_ms` after its window ended. */
  overdue: AuditCheck;
}

/**
 * How `auditBooks` judges: `now` and SETTLE_TIMEOUT_MS (past it, an unsettled
 * window is void, so an open bet older than that was never settled); how many
 * examples each check lists (20 unless set).
 *
 * ```ts
 * const options: AuditOptions = { now: Date.now(), settleTimeoutMs: 60_000, examples: 5 };
 * ```
 */
export interface AuditOptions {
  now: number;
  settleTimeoutMs: number;
  examples?: number;
}

/**
 * A bet with settlement credits, or that should have one (won, void, or a
 * payout recorded): its settlement credits in the ledger, counted and summed.
 *
 * ```ts
 * const row: SettlementRow = { id: "b1", status: "won", player_id: "p1", stake_cents: 500, multiplier_centi: 235, payout_cents: 1175, payouts: 1, refunds: 0, paid: 1175, refunded: 0, other_players: 0 };
 * ```
 */
export interface SettlementRow {
  id: string;
  status: string;
  player_id: string;
  stake_cents: number;
  multiplier_centi: number;
  payout_cents: number;
  payouts: number | null;
  refunds: number | null;
  paid: number | null;
  refunded: number | null;
  /** 1 when a credit of the bet went to another player than its own. */
  other_players: number | null;
}

/**
 * What the audit is made from: the rows a store's reader returns, the same on
 * SQLite (`readAuditRows`) and PostgreSQL (`readPostgresAuditRows` in
 * postgres-reader.ts), all from one snapshot. Lists of ids are in byte order of the id.
 *
 * ```ts
 * const rows: AuditRows = { players: 2, unbalanced: [], bets: 0, badStakes: [], settled: 0, settlementRows: [], open: 0, overdue: 0, overdueExamples: [] };
 * ```
 */
export interface AuditRows {
  players: number;
  /** Players whose balance is not their ledger's sum, or is negative. */
  unbalanced: { id: string; balance: number; ledger: number }[];
  bets: number;
  /** Bets without exactly one stake debit of minus their stake by their player; `amounts` comma-separated. */
  badStakes: { id: string; stake: number; entries: number; amounts: string | null }[];
  /** Bets not open. */
  settled: number;
  settlementRows: SettlementRow[];
  open: number;
  /** Open bets whose window ended before the deadline. */
  overdue: number;
  /** The first of them by window end, as many as the audit lists. */
  overdueExamples: { id: string; t_end: number }[];
}

/** What is wrong with a bet's settlement credits, or undefined when they are right. */
function settlementProblem(row: SettlementRow): string | undefined {
  const payouts = row.payouts ?? 0;
  const refunds = row.refunds ?? 0;
  const credits = `${payouts} payout(s) of ${row.paid ?? 0}, ${refunds} refund(s) of ${row.refunded ?? 0}`;
  if ((row.other_players ?? 0) > 0) return `a credit went to another player (${credits})`;
  switch (row.status) {
    case "open":
    case "lost":
      return payouts + refunds === 0 && row.payout_cents === 0 ? undefined : `${row.status} with ${credits}, payout_cents ${row.payout_cents}`;
    case "won": {
      const owed = Math.floor((row.stake_cents * row.multiplier_centi) / 100);
      if (payouts !== 1 || refunds !== 0) return `won with ${credits}`;
      if (row.paid !== row.payout_cents || row.payout_cents !== owed) return `won ${owed} (stake × multiplier), payout_cents ${row.payout_cents}, credited ${row.paid}`;
      return undefined;
    }
    case "void":
      if (payouts !== 0 || refunds !== 1) return `void with ${credits}`;
      return row.refunded === row.stake_cents && row.payout_cents === 0 ? undefined : `void, stake ${row.stake_cents}, refunded ${row.refunded}`;
    default:
      return `unknown status ${JSON.stringify(row.status)}`;
  }
}

/**
 * Audits the whole database (it only reads): balances against the ledger,
 * one stake per bet, one settlement credit per settled bet of the right kind
 * and amount (none for lost and open ones), and no open bet overdue. The
 * database's own constraints already refuse a second stake or credit for a
 * bet; this also catches what they cannot (a missing credit, a wrong amount,
 * a balance changed outside the ledger).
 *
 * ```ts
 * const audit = auditBooks(new Database("/data/bets.db", { readonly: true }), { now: Date.now(), settleTimeoutMs: 60_000 });
 * audit.ok; // true when the books balance
 * ```
 */
export function auditBooks(db: Database, options: AuditOptions): Audit {
  const { now, settleTimeoutMs, examples = 20 } = options;
  // One read transaction: every check sees the same snapshot while the API writes on.
  return auditOf(db.transaction(() => readAuditRows(db, now - settleTimeoutMs, examples))(), options);
}

/**
 * The audit rows of a SQLite database (it only reads; call it inside a read
 * transaction for one snapshot): open bets whose window ended before
 * `deadline` are overdue, and the first `examples` of them are listed.
 *
 * ```ts
 * const rows = db.transaction(() => readAuditRows(db, Date.now() - 60_000, 20))();
 * ```
 */
export function readAuditRows(db: Database, deadline: number, examples: number): AuditRows {
  const count = (sql: string, ...params: number[]) => (db.query(sql).get(...params) as { n: number }).n;
  return {
    players: count("SELECT count(*) AS n FROM players"),
    unbalanced: db
      .query(
        `SELECT p.id, p.balance_cents AS balance, coalesce(l.total, 0) AS ledger FROM players p
         LEFT JOIN (SELECT player_id, sum(amount_cents) AS total FROM ledger GROUP BY player_id) l ON l.player_id = p.id
         WHERE p.balance_cents != coalesce(l.total, 0) OR p.balance_cents < 0 ORDER BY p.id`,
      )
      .all() as AuditRows["unbalanced"],
    bets: count("SELECT count(*) AS n FROM bets"),
    badStakes: db
      .query(
        `SELECT b.id, b.stake_cents AS stake, count(l.id) AS entries, group_concat(l.amount_cents) AS amounts FROM bets b
         LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake'
         GROUP BY b.t_end, b.id
         HAVING count(l.id) != 1 OR min(l.amount_cents) != -b.stake_cents OR min(l.player_id != b.player_id)
         ORDER BY b.id`,
      )
      .all() as AuditRows["badStakes"],
    settled: count("SELECT count(*) AS n FROM bets WHERE status != 'open'"),
    settlementRows: db
      .query(
        `WITH credits AS (
           SELECT bet_id, sum(kind = 'payout') AS payouts, sum(kind = 'refund') AS refunds,
                  sum(CASE kind WHEN 'payout' THEN amount_cents ELSE 0 END) AS paid,
                  sum(CASE kind WHEN 'refund' THEN amount_cents ELSE 0 END) AS refunded,
                  min(player_id) AS low_player, max(player_id) AS high_player
           FROM ledger WHERE kind IN ('payout', 'refund') GROUP BY bet_id)
         SELECT b.id, b.status, b.player_id, b.stake_cents, b.multiplier_centi, b.payout_cents,
                c.payouts, c.refunds, c.paid, c.refunded, (c.low_player != b.player_id OR c.high_player != b.player_id) AS other_players
         FROM bets b LEFT JOIN credits c ON c.bet_id = b.id
         WHERE c.bet_id IS NOT NULL OR b.status IN ('won', 'void') OR b.payout_cents != 0`,
      )
      .all() as SettlementRow[],
    open: count("SELECT count(*) AS n FROM bets WHERE status = 'open'"),
    overdue: count("SELECT count(*) AS n FROM bets WHERE t_end < ?1 AND status = 'open'", deadline),
    overdueExamples: db
      .query("SELECT id, t_end FROM bets WHERE t_end < ?1 AND status = 'open' ORDER BY t_end, id LIMIT ?2")
      .all(deadline, examples) as AuditRows["overdueExamples"],
  };
}

/**
 * The audit from a reader's rows: whichever store they came from, the same
 * rows give the same audit.
 *
 * ```ts
 * const audit = auditOf(rows, { now, settleTimeoutMs: 60_000 });
 * ```
 */
export function auditOf(rows: AuditRows, { now, settleTimeoutMs, examples = 20 }: AuditOptions): Audit {
  const check = (checked: number, problems: { id: string; problem: string }[], failed = problems.length): AuditCheck => ({
    checked,
    failed,
    examples: problems.slice(0, examples),
  });
  const balances = check(
    rows.players,
    rows.unbalanced.map((r) => ({ id: r.id, problem: `balance ${r.balance}, ledger ${r.ledger}` })),
  );
  const stakes = check(
    rows.bets,
    rows.badStakes.map((r) => ({ id: r.id, problem: `stake ${r.stake}: ${r.entries} stake entries (${r.amounts ?? "none"})` })),
  );
  const wrongSettlements = rows.settlementRows.flatMap((row) => {
    const problem = settlementProblem(row);
    return problem === undefined ? [] : [{ id: row.id, problem }];
  });
  const settlements = check(rows.settled, wrongSettlements.sort((a, b) => a.id.localeCompare(b.id)));
  const overdue = check(
    rows.open,
    rows.overdueExamples.slice(0, examples).map((r) => ({ id: r.id, problem: `open, its window ended ${new Date(r.t_end).toISOString()} (${Math.round((now - r.t_end) / 1000)} s ago)` })),
    rows.overdue,
  );
  return {
    ok: [balances, stakes, settlements, overdue].every((c) => c.failed === 0),
    at: now,
    settle_timeout_ms: settleTimeoutMs,
    balances,
    stakes,
    settlements,
    overdue,
  };
}
