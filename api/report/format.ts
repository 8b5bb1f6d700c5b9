import type { Audit, AuditCheck } from "./audit.ts";
import type { Books } from "./books.ts";
import type { TimeRange } from "./report-args.ts";

/**
 * Everything `api report` prints: the books of a range and the audit of the
 * whole database. `--json` prints it as one object.
 *
 * ```ts
 * const report: Report = { db: "/data/bets.db", generated_at: new Date().toISOString(), range: { from, to }, books: readBooks(db, { from, to }, settings), audit: auditBooks(db, options) };
 * ```
 */
export interface Report {
  /** The SQLite file read, or the PostgreSQL URL without its user info. */
  db: string;
  generated_at: string;
  range: TimeRange;
  books: Books;
  audit: Audit;
}

/**
 * Cents as dollars with thousands separators: `$1,234.56`, `-$0.05`.
 *
 * ```ts
 * formatCents(123456); // "$1,234.56"
 * formatCents(-5);     // "-$0.05"
 * ```
 */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
}

const percent = (ratio: number | null) => (ratio === null ? "n/a" : `${(ratio * 100).toFixed(2)} %`);
const iso = (ms: number) => new Date(ms).toISOString();
/** `12:00:05` for a window's bounds; the date too when the range spans days. */
const clock = (ms: number, withDate: boolean) => (withDate ? iso(ms).slice(0, 19).replace("T", " ") : iso(ms).slice(11, 19));

/** The range as people say it: `2026-12-02` for one whole UTC day, else its two instants. */
function describeRange({ from, to }: TimeRange): string {
  const day = 86_400_000;
  if (from % day === 0 && to - from === day) return `${iso(from).slice(0, 10)} (UTC)`;
  return `${iso(from)} to ${iso(to)} (UTC, end excluded)`;
}

function table(rows: string[][], rightAligned: readonly boolean[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `  ${row.map((cell, column) => (rightAligned[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("   ").trimEnd()}`);
}

function checkLine(name: string, check: AuditCheck, what: string): string[] {
  const head = `  ${check.failed === 0 ? "ok  " : "FAIL"}  ${name} (${check.checked} ${what}${check.failed ? `, ${check.failed} wrong` : ""})`;
  return [head, ...check.examples.map((example) => `          ${example.id}: ${example.problem}`), ...(check.failed > check.examples.length ? [`          … and ${check.failed - check.examples.length} more`] : [])];
}

/**
 * The report as text for a terminal: the money, the return to players, the
 * bets by outcome, the largest exposures by window, then the audit.
 *
 * ```ts
 * process.stdout.write(formatReport(report));
 * ```
 */
export function formatReport({ db, generated_at, range, books, audit }: Report): string {
  const { money, return_to_player: rtp, return_by_distance: byDistance, outcomes, top_windows: windows } = books;
  const manyDays = range.to - range.from > 86_400_000 || new Date(range.from).getUTCDate() !== new Date(range.to - 1).getUTCDate();
  const lines = [
    `tap-trading books for ${describeRange(range)}`,
    `  database ${db}, read ${generated_at}`,
    "",
    "Money (ledger entries made in the range)",
    ...table(
      [
        ["stakes", formatCents(money.stakes_cents)],
        ["payouts", formatCents(money.payouts_cents)],
        ["refunds", formatCents(money.refunds_cents)],
        ["house net", formatCents(money.house_net_cents)],
        ["grants (new players)", formatCents(money.grants_cents)],
      ],
      [false, true],
    ),
    "",
    "Return to players (won and lost bets whose window ended in the range)",
    `  realised      ${percent(rtp.realised)}   (${formatCents(rtp.settled_payouts_cents)} paid on ${formatCents(rtp.settled_stakes_cents)} staked)`,
    `  theoretical   ${percent(rtp.theoretical)}   (1 - HOUSE_EDGE ${rtp.house_edge})`,
    "",
    "Return by distance from the price (bands between the bet's band and the price's when it was taken)",
    ...(byDistance.length === 0
      ? ["  no settled bets"]
      : table(
          [
            ["bands away", "bets", "staked", "paid", "realised"],
            ...byDistance.map((d) => [d.bands_away === null ? "unknown" : String(d.bands_away), String(d.bets), formatCents(d.stake_cents), formatCents(d.payout_cents), percent(d.realised)]),
          ],
          [false, true, true, true, true],
        )),
    "",
    "Bets by outcome (window ended in the range)",
    ...table(
      [
        ["", "bets", "staked", "paid"],
        ...(["open", "won", "lost", "void"] as const).map((status) => [
          status,
          String(outcomes[status].bets),
          formatCents(outcomes[status].stake_cents),
          formatCents(outcomes[status].payout_cents),
        ]),
      ],
      [false, true, true, true],
    ),
    "",
    `Largest exposures by window (top ${windows.length}; potential payout: every bet of the window winning)`,
    ...(windows.length === 0
      ? ["  no bets"]
      : table(
          [
            ["window (UTC)", "bets", "staked", "potential", "paid", "open"],
            ...windows.map((w) => [
              `${clock(w.t_start, manyDays)}-${clock(w.t_end, false)}`,
              String(w.bets),
              formatCents(w.stake_cents),
              formatCents(w.potential_payout_cents),
              formatCents(w.payout_cents),
              String(w.open_bets),
            ]),
          ],
          [false, true, true, true, true, true],
        )),
    "",
    `Audit of the whole database at ${iso(audit.at)}: ${audit.ok ? "PASSED" : "FAILED"}`,
    ...checkLine("every balance equals its ledger", audit.balances, "players"),
    ...checkLine("every bet has one stake debit", audit.stakes, "bets"),
    ...checkLine("every settled bet has its one credit", audit.settlements, "settled bets"),
    ...checkLine(`no open bet ${audit.settle_timeout_ms / 1000} s past its window (SETTLE_TIMEOUT_MS)`, audit.overdue, "open bets"),
  ];
  return `${lines.join("\n")}\n`;
}
