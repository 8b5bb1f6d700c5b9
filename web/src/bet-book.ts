import type { BetRequest } from "../../common/contracts/bet.ts";
import type { BetOutcome } from "./api-client.ts";
import type { GridCell } from "./grid-model.ts";

/** What one cell shows: bets in flight, the stake accepted on it, and the last refusal. */
export interface CellBets {
  pending: number;
  /** Sum of accepted stakes, in cents to stay exact. */
  acceptedCents: number;
  betIds: string[];
  error: string | undefined;
}

/** The latest bet the player placed; the text and attributes of `data-testid="bet-status"`. */
export type LatestBet =
  | { state: "pending"; cell: GridCell; amount: number }
  | { state: "accepted"; cell: GridCell; amount: number; betId: string }
  | { state: "rejected"; cell: GridCell; amount: number; message: string };

export interface PlacedBet {
  cell: GridCell;
  amount: number;
  betId: string;
}

export interface BetBook {
  /** Sends a bet for `cell`; the book's state moves to pending, then accepted or rejected. */
  place(cell: GridCell, amount: number): Promise<BetOutcome>;
  cell(key: string): CellBets | undefined;
  latest(): LatestBet | undefined;
  /** Accepted bets, oldest first. */
  accepted(): readonly PlacedBet[];
  /** Bumped on every change, so a view redraws only when something moved. */
  version(): number;
  /** Forgets bets whose window ended before `before`. */
  forgetBefore(before: number): void;
}

/**
 * The player's bets as the page knows them. Sending is injected (`send`), so the
 * book has no HTTP in it and a later issue can add balances and multipliers here.
 *
 * ```ts
 * const book = createBetBook({ userId: "guest-1", send: placeBet });
 * await book.place(gridCell(t, 42_010, DEFAULT_GRID), 5);
 * ```
 */
export function createBetBook({ userId, send }: { userId: string; send: (request: BetRequest) => Promise<BetOutcome> }): BetBook {
  const cells = new Map<string, CellBets & { tEnd: number }>();
  const placed: PlacedBet[] = [];
  let latest: LatestBet | undefined;
  let latestSeq = 0;
  let version = 0;

  const entry = (cell: GridCell) => {
    let bets = cells.get(cell.key);
    if (!bets) {
      bets = { pending: 0, acceptedCents: 0, betIds: [], error: undefined, tEnd: cell.t_end };
      cells.set(cell.key, bets);
    }
    return bets;
  };

  return {
    async place(cell, amount) {
      const seq = ++latestSeq;
      const bets = entry(cell);
      bets.pending++;
      bets.error = undefined;
      latest = { state: "pending", cell, amount };
      version++;
      const { key: _key, ...wireCell } = cell;
      const outcome = await send({ user_id: userId, amount, cell: wireCell });
      bets.pending--;
      if (outcome.ok) {
        bets.acceptedCents += Math.round(amount * 100);
        bets.betIds.push(outcome.betId);
        placed.push({ cell, amount, betId: outcome.betId });
      } else {
        bets.error = outcome.message;
      }
      // A slow answer to an older bet must not overwrite the status of a newer one.
      if (seq === latestSeq) {
        latest = outcome.ok
          ? { state: "accepted", cell, amount, betId: outcome.betId }
          : { state: "rejected", cell, amount, message: outcome.message };
      }
      version++;
      return outcome;
    },
    cell: (key) => cells.get(key),
    latest: () => latest,
    accepted: () => placed,
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
