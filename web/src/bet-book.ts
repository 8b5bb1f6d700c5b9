import type { BetRequest, BetView, Cell } from "../../common/contracts/bet.ts";
import type { BetEvent } from "../../common/contracts/bet-event.ts";
import type { BetOutcome } from "./api-client.ts";
import { cellKey } from "./grid-model.ts";

/**
 * How a settled bet ended.
 *
 * ```ts
 * const result: BetResult = "won";
 * ```
 */
export type BetResult = "won" | "lost" | "void";

/**
 * A cell plus its key (`cellKey`), as the grid hands it over.
 *
 * ```ts
 * const cell: KeyedCell = { key: cellKey(10_000, 42_010), t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 };
 * ```
 */
export type KeyedCell = Cell & { key: string };

/**
 * What one cell shows: bets in flight, the stake accepted on it, and the last refusal.
 *
 * ```ts
 * const bets: CellBets = { pending: 0, acceptedCents: 500, payoutCents: 1175, multiplier: 2.35, betIds: ["b1"], error: undefined, result: undefined, paidCents: 0 };
 * ```
 */
export interface CellBets {
  pending: number;
  /** Sum of accepted stakes, in cents to stay exact. */
  acceptedCents: number;
  /** Sum of what the accepted bets would pay, in cents. */
  payoutCents: number;
  /**
   * The multiplier the accepted bets were taken at (weighted by stake when they differ), not the live one;
   * undefined until one is accepted.
   */
  multiplier: number | undefined;
  betIds: string[];
  error: string | undefined;
  /** How the cell's bets ended, once the server has settled them. */
  result: BetResult | undefined;
  /** What the settled bets paid (won: the payout; void: the stake back), in cents. */
  paidCents: number;
}

/**
 * The latest bet the player placed; the text and attributes of `data-testid="bet-status"`.
 *
 * ```ts
 * const latest: LatestBet = { state: "pending", cell, amount: 5 };
 * ```
 */
export type LatestBet =
  | { state: "pending"; cell: KeyedCell; amount: number }
  | { state: "accepted"; cell: KeyedCell; amount: number; betId: string; multiplier: number; payout: number; result?: BetResult; paid?: number }
  | { state: "rejected"; cell: KeyedCell; amount: number; code: string; message: string };

/**
 * An accepted bet as the book holds it (`BetBook.accepted`).
 *
 * ```ts
 * const bet: PlacedBet = { cell, amount: 5, betId: "b1", multiplier: 2.35, payout: 11.75 };
 * ```
 */
export interface PlacedBet {
  cell: KeyedCell;
  amount: number;
  betId: string;
  multiplier: number;
  /** What it pays if won. */
  payout: number;
  result?: BetResult;
}

/**
 * The page's bets and balance; made by `createBetBook`.
 *
 * ```ts
 * const book: BetBook = createBetBook({ send: (request, key) => placeBet(session, request, { idempotencyKey: key }) });
 * ```
 */
export interface BetBook {
  /**
   * Sends a bet for `cell` under a new idempotency key, at no less than `quote.minMultiplier` (slippage
   * protection); the book's state moves to pending, then accepted or rejected.
   */
  place(cell: KeyedCell, amount: number, quote?: BetQuote): Promise<BetOutcome>;
  /**
   * Applies one of the player's `bet` events from the socket: its balance (newer than any answer still
   * in flight), and a result on the bet and its cell. Returns false for a bet the book does not know
   * (placed on another device, or forgotten), so the caller can fetch it.
   */
  apply(event: BetEvent): boolean;
  /**
   * Marks the results of settled bets read from the server (`GET /api/bets`): those settled while
   * the socket was down, whose events were never heard. Balances are not touched: read them from `/api/me`.
   */
  applyResults(bets: readonly BetView[]): void;
  /** Adds bets the server already holds (the open bets at load); ones the book knows are skipped. */
  load(bets: readonly BetView[]): void;
  cell(key: string): CellBets | undefined;
  /** True once the book holds the accepted bet `betId`. */
  knows(betId: string): boolean;
  latest(): LatestBet | undefined;
  /** Accepted bets, oldest window first. */
  accepted(): readonly PlacedBet[];
  /** The balance, from `/api/me` (`setBalance`) and then from each accepted bet's answer. */
  balance(): number | undefined;
  setBalance(balance: number): void;
  /**
   * Counts every change of the balance (events, answers, `setBalance`). A read of `/api/me`
   * that saw this count move while it was on its way may be older than the balance shown.
   */
  balanceChanges(): number;
  /** Bumped on every change, so a view redraws only when something moved. */
  version(): number;
  /** Forgets bets whose window ended before `before`. */
  forgetBefore(before: number): void;
}

/**
 * What the player saw when tapping: the cell's multiplier (the least the bet may be taken at) and the grid it came from.
 *
 * ```ts
 * const quote: BetQuote = { minMultiplier: 37.4, quoteId: "mjuohs00-1" };
 * ```
 */
export interface BetQuote {
  minMultiplier: number;
  quoteId?: string;
}

/**
 * `multiplier` as the API takes `min_multiplier`: at most two decimals, rounded down so the shown price is never
 * asked above itself, and above 1.
 *
 * ```ts
 * minMultiplierOf(8.719); // 8.71
 * ```
 */
export function minMultiplierOf(multiplier: number): number {
  return Math.max(1.01, Math.floor(multiplier * 100 + 1e-6) / 100);
}

/** Random base-36 characters in a tap's idempotency key: about 103 bits, so two taps never share one. */
const TAP_KEY_RANDOM_CHARS = 20;

/**
 * A fresh idempotency key for one tap: letters and digits, well inside the API's 64.
 *
 * ```ts
 * newTapKey(); // e.g. "tap-mio2k3x4-0c9f3kq1z8a7b2d4e6g5"
 * ```
 */
export function newTapKey(random: () => number = Math.random): string {
  let suffix = "";
  while (suffix.length < TAP_KEY_RANDOM_CHARS) suffix += Math.floor(random() * 36).toString(36);
  return `tap-${Date.now().toString(36)}-${suffix}`;
}

/**
 * The player's bets and balance as the page knows them. Sending is injected
 * (`send`), so the book has no HTTP in it.
 *
 * ```ts
 * const book = createBetBook({ send: (request, key) => placeBet(session, request, { idempotencyKey: key }) });
 * await book.place({ key: cellKey(t, 42_010), t_start: t, t_end: t + 5000, price_low: 42_010, price_high: 42_020 }, 5);
 * ```
 */
export function createBetBook({
  send,
  newKey = newTapKey,
}: {
  send: (request: BetRequest, idempotencyKey: string) => Promise<BetOutcome>;
  newKey?: () => string;
}): BetBook {
  const cells = new Map<string, CellBets & { tEnd: number }>();
  const placed: PlacedBet[] = [];
  const known = new Set<string>();
  let latest: LatestBet | undefined;
  let latestSeq = 0;
  let balance: number | undefined;
  let balanceSeq = 0;
  let balanceChanges = 0;
  let version = 0;

  const setBalance = (value: number) => {
    // A bet sent before this figure may still answer; it must not undo it, so this one wins over those.
    balanceSeq = latestSeq + 1;
    balance = value;
    balanceChanges++;
    version++;
  };

  const entry = (cell: KeyedCell) => {
    let bets = cells.get(cell.key);
    if (!bets) {
      bets = { pending: 0, acceptedCents: 0, payoutCents: 0, multiplier: undefined, betIds: [], error: undefined, result: undefined, paidCents: 0, tEnd: cell.t_end };
      cells.set(cell.key, bets);
    }
    return bets;
  };

  /** Marks a known bet's result (once); false when the book does not hold the bet. */
  const markResult = (betId: string, result: BetResult, payout: number): boolean => {
    const bet = placed.find((candidate) => candidate.betId === betId);
    if (!bet) return false;
    if (bet.result) return true;
    bet.result = result;
    const bets = entry(bet.cell);
    bets.result = result;
    // The API's payout is a win's; a void pays back the stake (its refund), which is what the player gets.
    if (result === "void") payout = bet.amount;
    bets.paidCents += Math.round(payout * 100);
    // News of a result replaces the status line, except while a tap is still being answered.
    if (latest?.state !== "pending") {
      latest = { state: "accepted", cell: bet.cell, amount: bet.amount, betId: bet.betId, multiplier: bet.multiplier, payout: bet.payout, result, paid: payout };
    }
    return true;
  };

  const accept = (cell: KeyedCell, amount: number, betId: string, multiplier: number, payout: number) => {
    if (known.has(betId)) return;
    known.add(betId);
    const bets = entry(cell);
    const stakeCents = Math.round(amount * 100);
    bets.multiplier = ((bets.multiplier ?? 0) * bets.acceptedCents + multiplier * stakeCents) / (bets.acceptedCents + stakeCents);
    bets.acceptedCents += stakeCents;
    bets.payoutCents += Math.round(payout * 100);
    bets.betIds.push(betId);
    const at = placed.findLastIndex((bet) => bet.cell.t_end <= cell.t_end) + 1;
    placed.splice(at, 0, { cell, amount, betId, multiplier, payout });
  };

  return {
    async place(cell, amount, quote) {
      const seq = ++latestSeq;
      const bets = entry(cell);
      bets.pending++;
      bets.error = undefined;
      latest = { state: "pending", cell, amount };
      version++;
      // Only the cell itself goes on the wire: the server prices it again.
      const wireCell = { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high };
      const priced = quote ? { min_multiplier: minMultiplierOf(quote.minMultiplier), ...(quote.quoteId ? { quote_id: quote.quoteId } : {}) } : {};
      const outcome = await send({ amount, cell: wireCell, ...priced }, newKey());
      bets.pending--;
      if (outcome.ok) {
        accept(cell, amount, outcome.betId, outcome.multiplier, outcome.potentialPayout);
        bets.error = undefined;
        // Answers can overtake each other; the newest bet's balance is the one that counts.
        if (seq >= balanceSeq) {
          balanceSeq = seq;
          balance = outcome.balance;
          balanceChanges++;
        }
      } else {
        bets.error = outcome.message;
      }
      // A slow answer to an older bet must not overwrite the status of a newer one.
      if (seq === latestSeq) {
        latest = outcome.ok
          ? { state: "accepted", cell, amount, betId: outcome.betId, multiplier: outcome.multiplier, payout: outcome.potentialPayout }
          : { state: "rejected", cell, amount, code: outcome.code, message: outcome.message };
      }
      version++;
      return outcome;
    },
    apply(event) {
      setBalance(event.balance);
      const result = event.status;
      if (result === "accepted" || result === "open") return known.has(event.bet_id);
      return markResult(event.bet_id, result, event.payout);
    },
    applyResults(views) {
      for (const view of views) if (view.status !== "open") markResult(view.bet_id, view.status, view.payout);
      version++;
    },
    load(views) {
      for (const view of views) {
        if (view.status !== "open") continue;
        accept({ key: cellKey(view.cell.t_start, view.cell.price_low), ...view.cell }, view.amount, view.bet_id, view.multiplier, view.potential_payout);
      }
      version++;
    },
    cell: (key) => cells.get(key),
    knows: (betId) => known.has(betId),
    latest: () => latest,
    accepted: () => placed,
    balance: () => balance,
    setBalance,
    balanceChanges: () => balanceChanges,
    version: () => version,
    forgetBefore(before) {
      let changed = false;
      for (const [key, bets] of cells) {
        if (bets.pending === 0 && bets.tEnd < before) {
          cells.delete(key);
          changed = true;
        }
      }
      while (placed[0] && placed[0].cell.t_end < before) {
        placed.shift();
        changed = true;
      }
      if (changed) version++;
    },
  };
}
