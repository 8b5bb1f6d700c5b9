import type { BetStatus, BetView, Cell } from "../../common/contracts/bet.ts";

/**
 * One of the player's bets as the history panel lists it.
 *
 * ```ts
 * const entry: HistoryEntry = { betId: "b1", cell, amount: 5, multiplier: 2.35, potentialPayout: 11.75, status: "open", payout: 0, createdAt: 1_767_225_598_000, version: 1 };
 * ```
 */
export interface HistoryEntry {
  betId: string;
  cell: Cell;
  amount: number;
  multiplier: number;
  potentialPayout: number;
  status: BetStatus;
  /** What it paid: the payout when won, the stake back when void, 0 otherwise. */
  payout: number;
  createdAt: number;
  /** Bumped whenever this entry changes, so a view rewrites only the rows that moved. */
  version: number;
}

/**
 * The player's totals: staked (open bets too), paid out (payouts and refunds), and the net of the two; from the
 * server (`GET /api/me`'s `totals`, every bet the player placed) once it told them, else over the bets the history holds.
 *
 * ```ts
 * const totals: HistoryTotals = { staked: 10, paidOut: 11.75, net: 1.75, open: 0 };
 * ```
 */
export interface HistoryTotals {
  staked: number;
  paidOut: number;
  net: number;
  /** How many of the bets are still open. */
  open: number;
}

/**
 * The player's bets for the history panel; made by `createBetHistory`.
 *
 * ```ts
 * const history: BetHistory = createBetHistory();
 * ```
 */
export interface BetHistory {
  /** Takes a page of `GET /api/bets` (newest first) and where the next one starts (`next_before`, null on the last page). */
  addPage(bets: readonly BetView[], nextBefore: string | null): void;
  /** Adds or refreshes bets read from the server (`GET /api/bets/:id`, the open bets); a known settled bet stays settled. */
  upsert(bets: readonly BetView[]): void;
  /** Adds a bet this page has just placed (its answer), open. */
  placed(bet: { betId: string; cell: Cell; amount: number; multiplier: number; potentialPayout: number; createdAt: number }): void;
  /** Marks a known bet settled (a `bet` event); false when the history does not hold it. */
  settle(betId: string, status: Exclude<BetStatus, "open">, payout: number): boolean;
  has(betId: string): boolean;
  /** Open bets first (soonest window first), then the settled, newest first. */
  entries(): readonly HistoryEntry[];
  totals(): HistoryTotals;
  /** Takes the server's totals of every bet the player placed (`GET /api/me`); `totals()` reports them from then on. */
  setPlayerTotals(totals: { staked: number; paidOut: number; net: number }): void;
  /** The `before` of the next older page; null once the last page is in, undefined before the first. */
  nextBefore(): string | null | undefined;
  /** Bumped on every change. */
  version(): number;
}

const cents = (amount: number) => Math.round(amount * 100);

/** Open bets first, soonest window first; then the rest, newest first. */
function byPanelOrder(a: HistoryEntry, b: HistoryEntry): number {
  const aOpen = a.status === "open";
  const bOpen = b.status === "open";
  if (aOpen !== bOpen) return aOpen ? -1 : 1;
  if (aOpen) return a.cell.t_start - b.cell.t_start || b.createdAt - a.createdAt;
  return b.createdAt - a.createdAt || (a.betId < b.betId ? 1 : -1);
}

/**
 * The player's bets as the history panel shows them: merged from pages of
 * `GET /api/bets`, this page's own answers and the socket's `bet` events, in
 * panel order with the totals. Pure: no HTTP and no DOM.
 *
 * ```ts
 * const history = createBetHistory();
 * history.placed({ betId: "b1", cell, amount: 5, multiplier: 2.35, potentialPayout: 11.75, createdAt: Date.now() });
 * history.settle("b1", "won", 11.75);
 * history.totals(); // { staked: 5, paidOut: 11.75, net: 6.75, open: 0 }
 * ```
 */
export function createBetHistory(): BetHistory {
  const byId = new Map<string, HistoryEntry>();
  let sorted: HistoryEntry[] | undefined = [];
  let next: string | null | undefined;
  let version = 0;
  let playerTotals: { staked: number; paidOut: number; net: number } | undefined;

  const put = (entry: HistoryEntry) => {
    const known = byId.get(entry.betId);
    if (known) {
      // A result never goes back to open (a page read before the settlement may arrive after its event).
      if (known.status !== "open" && entry.status === "open") return;
      if (known.status === entry.status && known.payout === entry.payout) return;
      entry.version = known.version + 1;
    }
    byId.set(entry.betId, entry);
    sorted = undefined;
    version++;
  };

  const fromView = (view: BetView): HistoryEntry => ({
    betId: view.bet_id,
    cell: view.cell,
    amount: view.amount,
    multiplier: view.multiplier,
    potentialPayout: view.potential_payout,
    status: view.status,
    payout: view.status === "void" ? view.amount : view.payout,
    createdAt: view.created_at,
    version: 1,
  });

  return {
    addPage(views, nextBefore) {
      for (const view of views) put(fromView(view));
      next = nextBefore;
      version++;
    },
    upsert(views) {
      for (const view of views) put(fromView(view));
    },
    placed(bet) {
      if (byId.has(bet.betId)) return;
      put({ ...bet, status: "open", payout: 0, version: 1 });
    },
    settle(betId, status, payout) {
      const known = byId.get(betId);
      if (!known) return false;
      // The API's payout is a win's; a void pays back the stake.
      put({ ...known, status, payout: status === "void" ? known.amount : payout });
      return true;
    },
    has: (betId) => byId.has(betId),
    entries() {
      sorted ??= [...byId.values()].sort(byPanelOrder);
      return sorted;
    },
    totals() {
      let staked = 0;
      let paid = 0;
      let open = 0;
      for (const entry of byId.values()) {
        staked += cents(entry.amount);
        paid += cents(entry.payout);
        if (entry.status === "open") open++;
      }
      return playerTotals ? { ...playerTotals, open } : { staked: staked / 100, paidOut: paid / 100, net: (paid - staked) / 100, open };
    },
    setPlayerTotals(next) {
      if (playerTotals && playerTotals.staked === next.staked && playerTotals.paidOut === next.paidOut && playerTotals.net === next.net) return;
      playerTotals = { ...next };
      version++;
    },
    nextBefore: () => next,
    version: () => version,
  };
}
