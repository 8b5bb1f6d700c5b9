import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { createSettleStore } from "./settle-store.ts";
import { createSettlementBook, type Decision } from "./settlement-book.ts";
import type { JudgedTick } from "./tick-log.ts";

/**
 * What to audit and with which settings (the API's).
 *
 * ```ts
 * const options: ReplayOptions = { dbPath: "data/bets.db", scratchPath: "/tmp/audit.db", from, to, ticks, staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 };
 * ```
 */
export interface ReplayOptions {
  /** The live database (read only here). */
  dbPath: string;
  /** Where the scratch copy goes; it is overwritten. */
  scratchPath: string;
  /** Bets whose window ends in [from, to] are settled again. */
  from: number;
  to: number;
  /** The judged ticks (the `ticks` table) covering the range: from before its windows open to `timeoutMs` after it. */
  ticks: readonly JudgedTick[];
  staleMs: number;
  graceMs: number;
  timeoutMs: number;
}

/**
 * A bet the audit settled otherwise than the record says.
 *
 * ```ts
 * const difference: ReplayDifference = { bet_id: "b1", recorded: { status: "lost", payout_cents: 0 }, replayed: { status: "won", payout_cents: 1175 } };
 * ```
 */
export interface ReplayDifference {
  bet_id: string;
  recorded: { status: string; payout_cents: number };
  replayed: { status: string; payout_cents: number };
}

/**
 * What the audit found: the bets of the range, how many it settled again, and every difference.
 *
 * ```ts
 * const report: ReplayReport = { bets: 120, settled: 120, differences: [] };
 * ```
 */
export interface ReplayReport {
  bets: number;
  settled: number;
  differences: ReplayDifference[];
}

interface Row {
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
 * An audit: copies the database to a scratch file, reopens there every bet
 * whose window ended in the range (removing its settlement), settles them
 * again from the judged ticks with the same code the API runs, and reports
 * every bet whose outcome or payout differs from what was recorded. Bets
 * still open in the live database are left out (they are not decided yet).
 *
 * ```ts
 * const report = replaySettlement({ dbPath, scratchPath: "/tmp/replay.db", from, to, ticks, staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 });
 * report.differences; // [] when every recorded settlement is made again alike
 * ```
 */
export function replaySettlement({ dbPath, scratchPath, from, to, ticks, staleMs, graceMs, timeoutMs }: ReplayOptions): ReplayReport {
  const live = new Database(dbPath, { readonly: true });
  rmSync(scratchPath, { force: true });
  live.run("VACUUM INTO ?", [scratchPath]);
  live.close();

  const scratch = new Database(scratchPath, { strict: true });
  try {
    const recorded = scratch
      .query("SELECT * FROM bets WHERE t_end BETWEEN ?1 AND ?2 AND status != 'open' ORDER BY id")
      .all(from, to) as Row[];
    // The scratch copy only: undo those settlements so they can be made again.
    scratch.exec("DROP TRIGGER ledger_no_delete");
    const reopen = scratch.transaction(() => {
      for (const row of recorded) {
        const credits = scratch.query("SELECT player_id, amount_cents FROM ledger WHERE bet_id = ?1 AND kind IN ('payout', 'refund')").all(row.id) as {
          player_id: string;
          amount_cents: number;
        }[];
        for (const credit of credits) scratch.run("UPDATE players SET balance_cents = balance_cents - ?2 WHERE id = ?1", [credit.player_id, credit.amount_cents]);
        scratch.run("DELETE FROM ledger WHERE bet_id = ?1 AND kind IN ('payout', 'refund')", [row.id]);
        scratch.run("UPDATE bets SET status = 'open', payout_cents = 0, settled_at = NULL WHERE id = ?1", [row.id]);
      }
    });
    reopen();

    const book = createSettlementBook({ staleMs, graceMs, timeoutMs });
    const ids = new Set(recorded.map((row) => row.id));
    const store = createSettleStore(scratch);
    for (const bet of store.openBets()) if (ids.has(bet.id)) book.add(bet);
    const decisions: Decision[] = [];
    for (const { tick, continuous } of ticks) decisions.push(...book.onTick(tick.ts, Math.round(tick.price * 100), continuous));
    // Every tick that could decide a window of the range has been fed: what is left is void.
    decisions.push(...book.onClock(Number.MAX_SAFE_INTEGER));
    const settled = store.settle(decisions, Date.now());

    const replayed = new Map(
      (scratch.query("SELECT id, status, payout_cents FROM bets WHERE t_end BETWEEN ?1 AND ?2").all(from, to) as Row[]).map((row) => [row.id, row]),
    );
    const differences: ReplayDifference[] = [];
    for (const row of recorded) {
      const again = replayed.get(row.id);
      if (!again || again.status !== row.status || again.payout_cents !== row.payout_cents) {
        differences.push({
          bet_id: row.id,
          recorded: { status: row.status, payout_cents: row.payout_cents },
          replayed: { status: again?.status ?? "missing", payout_cents: again?.payout_cents ?? 0 },
        });
      }
    }
    return { bets: recorded.length, settled: settled.length, differences };
  } finally {
    scratch.close();
  }
}
