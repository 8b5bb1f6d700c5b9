import type { Database } from "bun:sqlite";
import { type BetRow, potentialPayoutCents } from "../bets/bet-store.ts";
import type { Decision, OpenBet } from "./settlement-book.ts";
import { createTickLog, type JudgedTick } from "./tick-log.ts";

/** The columns of a stored bet that the settlement book needs. */
type OpenBetRow = Pick<BetRow, "id" | "player_id" | "t_start" | "t_end" | "price_low_cents" | "price_high_cents" | "stake_cents" | "multiplier_centi">;

/**
 * A stored bet as the settlement book holds it: the one row-to-`OpenBet` mapping.
 *
 * ```ts
 * settler.add(openBetOf(placedRow));
 * ```
 */
export function openBetOf(bet: OpenBetRow): OpenBet {
  return {
    id: bet.id,
    playerId: bet.player_id,
    tStart: bet.t_start,
    tEnd: bet.t_end,
    lowCents: bet.price_low_cents,
    highCents: bet.price_high_cents,
    stakeCents: bet.stake_cents,
    multiplierCenti: bet.multiplier_centi,
  };
}

/**
 * A settled bet as told to its player.
 *
 * ```ts
 * const settled: Settled = { betId: "b1", playerId: "p1", outcome: "won", payoutCents: 1175, balanceCents: 100_675 };
 * ```
 */
export interface Settled {
  betId: string;
  playerId: string;
  outcome: "won" | "lost" | "void";
  payoutCents: number;
  balanceCents: number;
}

/**
 * A window whose lost bets the book and the database counted differently.
 *
 * ```ts
 * const disagreement: Disagreement = { tStart: 1_700_000_005_000, tEnd: 1_700_000_010_000, book: 41, database: 42 };
 * ```
 */
export interface Disagreement {
  tStart: number;
  tEnd: number;
  book: number;
  database: number;
}

/**
 * Each bet's first decision in `decisions`, in order: a bet decided twice in
 * one settlement is settled by its first decision, on either store (one
 * set-based statement could not tell which of two it applied).
 *
 * ```ts
 * firstDecisionPerBet([{ bet, outcome: "won", at }, { bet, outcome: "lost", at }]); // [{ bet, outcome: "won", at }]
 * ```
 */
export function firstDecisionPerBet(decisions: readonly Decision[]): Decision[] {
  const seen = new Set<string>();
  return decisions.filter(({ bet }) => !seen.has(bet.id) && Boolean(seen.add(bet.id)));
}

/**
 * A window as settlement names it (`tStart:tEnd`): in `settle`'s `continuing`,
 * and wherever a settlement's losses are grouped by window.
 *
 * ```ts
 * windowKey({ tStart: 1_700_000_005_000, tEnd: 1_700_000_010_000 }); // "1700000005000:1700000010000"
 * ```
 */
export const windowKey = (bet: Pick<OpenBet, "tStart" | "tEnd">): string => `${bet.tStart}:${bet.tEnd}`;

/** No window continues in a later call. */
const NONE: ReadonlySet<string> = new Set();

/**
 * Writes settlements: per bet, the status change from `open` and its credit
 * (payout when won, refund when void) in ONE transaction for the whole list,
 * together with the tick that decided them (the `ticks` table), so what a
 * settlement was judged on is never lost while the settlement is kept.
 * A bet that is no longer open is skipped, so settling twice pays once; the
 * database also refuses a second credit for the same bet.
 *
 * Losses move no money, and a closing window loses all its untouched bets at
 * once: those are marked by one statement per window when the book's lost
 * bets are exactly the window's open bets in the database (else with the
 * rest, and `onDisagreement` is told). A window named in `continuing` (its
 * losses are written over several calls, api/settlement/settler.ts) is not
 * checked until the call that finishes it: its lost bets here go with the
 * rest, and the last call's are then the window's open bets. The rest are marked by one statement
 * (those still open say so), and their credits written by one more, in the
 * decisions' order; a bet decided twice in one call takes its first decision.
 * The balance told with each settled bet is the player's balance before the
 * call followed through these credits in order.
 *
 * ```ts
 * const store = createSettleStore(db, { onDisagreement: (window) => log.warn({ window }, "settled bet by bet") });
 * const settled = store.settle(book.onTick(ts, priceCents, continuous), Date.now(), judged);
 * ```
 */
export function createSettleStore(db: Database, { onDisagreement }: { onDisagreement?: (window: Disagreement) => void } = {}) {
  // The decisions that are not a window's bulk loss, as one JSON array each way: one statement marks them all
  // (only those still open: RETURNING says which), one writes exactly their credits, in the decisions' order.
  const markSettled = db.prepare(
    `UPDATE bets SET status = d.value ->> 'outcome', payout_cents = d.value ->> 'payout', settled_at = ?2
     FROM json_each(?1) AS d
     WHERE bets.t_end = d.value ->> 't_end' AND bets.id = d.value ->> 'id' AND bets.status = 'open'
     RETURNING bets.id`,
  );
  const credit = db.prepare(
    `INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at)
     SELECT d.value ->> 'player_id', d.value ->> 'kind', d.value ->> 'amount', d.value ->> 'id', ?2 FROM json_each(?1) AS d ORDER BY d.key`,
  );
  const balances = db.prepare("SELECT id, balance_cents FROM players WHERE id IN (SELECT value FROM json_each(?1))");
  // One string of ids, not a row each: reading them is then far cheaper than the update.
  const windowOpenIds = db.prepare("SELECT group_concat(id, ',') AS ids FROM bets WHERE t_end = ?1 AND t_start = ?2 AND status = 'open'");
  const markWindowLost = db.prepare("UPDATE bets SET status = 'lost', settled_at = ?3 WHERE t_end = ?1 AND t_start = ?2 AND status = 'open'");
  const ticks = createTickLog(db);
  const openBets = db.prepare(
    "SELECT id, player_id, t_start, t_end, price_low_cents, price_high_cents, stake_cents, multiplier_centi FROM bets WHERE status = 'open'",
  );
  const oldestOpen = db.prepare("SELECT min(t_start) AS t FROM bets WHERE status = 'open'");

  /** Marks the window's bets lost when they are exactly its open bets in the database; false (nothing written) otherwise. */
  const loseWindow = (bets: readonly OpenBet[], now: number): boolean => {
    const { tStart, tEnd } = bets[0]!;
    const ids = (windowOpenIds.get(tEnd, tStart) as { ids: string | null }).ids;
    const open = new Set(ids === null ? [] : ids.split(","));
    if (open.size !== bets.length || !bets.every((bet) => open.has(bet.id))) {
      onDisagreement?.({ tStart, tEnd, book: bets.length, database: open.size });
      return false;
    }
    markWindowLost.run(tEnd, tStart, now);
    return true;
  };

  /** The lost bets written window by window, but for the `continuing` windows; the rest are left to the per-bet path. */
  const loseWindows = (decisions: readonly Decision[], now: number, continuing: ReadonlySet<string>): Set<string> => {
    const byWindow = new Map<string, OpenBet[]>();
    for (const { bet, outcome } of decisions) {
      if (outcome !== "lost") continue;
      const key = windowKey(bet);
      if (continuing.has(key)) continue;
      const bets = byWindow.get(key);
      if (bets) bets.push(bet);
      else byWindow.set(key, [bet]);
    }
    const lost = new Set<string>();
    for (const bets of byWindow.values()) if (loseWindow(bets, now)) for (const bet of bets) lost.add(bet.id);
    return lost;
  };

  const settleAll = db.transaction((all: readonly Decision[], now: number, judged: JudgedTick | undefined, continuing: ReadonlySet<string>) => {
    if (judged) ticks.append(judged, now);
    const decisions = firstDecisionPerBet(all);
    if (decisions.length === 0) return [];
    const lostInBulk = loseWindows(decisions, now, continuing);
    const amountOf = ({ bet, outcome }: Decision) =>
      outcome === "won" ? potentialPayoutCents(bet.stakeCents, bet.multiplierCenti) : outcome === "void" ? bet.stakeCents : 0;
    // Balances before any credit, then followed in the decisions' order: what each settled bet is told.
    const balanceOf = new Map(
      (balances.all(JSON.stringify([...new Set(decisions.map(({ bet }) => bet.playerId))])) as { id: string; balance_cents: number }[]).map((row) => [row.id, row.balance_cents]),
    );
    const rest = decisions.filter(({ bet }) => !lostInBulk.has(bet.id));
    const marked =
      rest.length === 0
        ? new Set<string>()
        : new Set(
            (
              markSettled.all(
                JSON.stringify(rest.map((decision) => ({ id: decision.bet.id, t_end: decision.bet.tEnd, outcome: decision.outcome, payout: decision.outcome === "won" ? amountOf(decision) : 0 }))),
                now,
              ) as { id: string }[]
            ).map((row) => row.id),
          );
    const credits = rest
      .filter((decision) => marked.has(decision.bet.id) && amountOf(decision) > 0)
      .map((decision) => ({ player_id: decision.bet.playerId, kind: decision.outcome === "won" ? "payout" : "refund", amount: amountOf(decision), id: decision.bet.id }));
    if (credits.length > 0) credit.run(JSON.stringify(credits), now);
    const settled: Settled[] = [];
    for (const decision of decisions) {
      const { bet, outcome } = decision;
      if (!lostInBulk.has(bet.id) && !marked.has(bet.id)) continue; // already settled: pays nothing, tells nothing
      const amount = amountOf(decision);
      const after = balanceOf.get(bet.playerId)! + amount;
      balanceOf.set(bet.playerId, after);
      settled.push({ betId: bet.id, playerId: bet.playerId, outcome, payoutCents: outcome === "won" ? amount : 0, balanceCents: after });
    }
    return settled;
  });

  return {
    /**
     * Settles the decided bets in one transaction, with `judged`, the tick that
     * decided them (stored even when it decided nothing); returns the bets that
     * changed. `continuing`: windows whose losses go on in a later call.
     */
    settle(decisions: readonly Decision[], now: number, judged?: JudgedTick, continuing: ReadonlySet<string> = NONE): Settled[] {
      return decisions.length === 0 && !judged ? [] : settleAll(decisions, now, judged, continuing);
    },
    /** The ticks already judged (read at start, and by the audit). */
    ticks,
    /** Every open bet, to rebuild the settlement book at start. */
    openBets(): OpenBet[] {
      return (openBets.all() as OpenBetRow[]).map(openBetOf);
    },
    /** The earliest window start of an open bet (where the replay at start must begin); undefined when none is open. */
    oldestOpenStart(): number | undefined {
      return (oldestOpen.get() as { t: number | null }).t ?? undefined;
    },
  };
}

/**
 * The settle store (see `createSettleStore`).
 *
 * ```ts
 * const store: SettleStore = createSettleStore(db);
 * ```
 */
export type SettleStore = ReturnType<typeof createSettleStore>;

/** A value now (SQLite) or later (PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

/**
 * What settlement needs of a store, whichever the database: `createSettleStore`
 * (SQLite, answers at once) and the PostgreSQL store's `settlement` and `ticks`
 * (answers with promises) both fit.
 *
 * ```ts
 * const writes: SettlementStore = { ...pgStore.settlement, ticks: pgStore.ticks };
 * ```
 */
export interface SettlementStore {
  /** `continuing` (a synchronous store's runs, api/settlement/settler.ts): windows whose lost bets go on in a later call. */
  settle(decisions: readonly Decision[], now: number, judged?: JudgedTick, continuing?: ReadonlySet<string>): Awaitable<Settled[]>;
  openBets(): Awaitable<OpenBet[]>;
  oldestOpenStart(): Awaitable<number | undefined>;
  ticks: {
    last(): Awaitable<JudgedTick | undefined>;
    range(from: number, to: number): Awaitable<JudgedTick[]>;
  };
}
