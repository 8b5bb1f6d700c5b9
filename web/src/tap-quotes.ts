import type { Grid } from "../../common/contracts/grid.ts";
import type { BetOutcome } from "./api-client.ts";
import type { BetQuote } from "./bet-book.ts";
import { cellKey, type GridCell, type PricedGrid } from "./grid-model.ts";
import type { KeyValueStore } from "./session.ts";

/** Where the player's "accept up to 2 % less" choice is kept. */
const TOLERANCE_KEY = "tap-trading.slippage";

/** How much less than the shown multiplier a tap accepts when the player allows it: 2 %. */
export const SLIPPAGE_TOLERANCE = 0.02;

/**
 * The player's slippage choice, kept in `store`: off (0) until they turn it on.
 *
 * ```ts
 * const tolerance = createSlippageSetting(localStorage);
 * tolerance.set(true); tolerance.value(); // 0.02
 * ```
 */
export function createSlippageSetting(store: KeyValueStore | undefined) {
  let on = false;
  try {
    on = store?.getItem(TOLERANCE_KEY) === "on";
  } catch {
    // Blocked storage: off.
  }
  return {
    value: () => (on ? SLIPPAGE_TOLERANCE : 0),
    enabled: () => on,
    set(next: boolean) {
      on = next;
      try {
        store?.setItem(TOLERANCE_KEY, next ? "on" : "off");
      } catch {
        // Kept for this page only.
      }
    },
  };
}

/**
 * The priced grid, plus what a tap on one of its cells asks for (`BetQuote`).
 *
 * ```ts
 * const priced: QuotedGrid = withTapQuotes(createPricedGrid());
 * ```
 */
export interface QuotedGrid extends PricedGrid {
  /**
   * The quote for a tap on `cell`: the multiplier it shows and the `quote_id` of the grid it came from; or, for the
   * one tap after a `quote_changed` refusal on that same cell, the multiplier the refusal named (less the player's
   * tolerance, when on).
   */
  quoteFor(cell: GridCell): BetQuote;
  /** Takes a bet's answer: a `quote_changed` refusal makes the cell's next tap ask the current multiplier. */
  answered(cell: GridCell, outcome: BetOutcome): void;
}

/**
 * Wraps `priced` so each cell remembers the grid (quote) it was priced in, and a refused quote can be taken with one
 * more tap. `tolerance` (0 by default) lets a first tap accept that much less than the shown multiplier. The API takes a bet only at no less than the multiplier sent (409 `quote_changed` otherwise, nothing
 * debited), so the player is never filled at a price they did not see.
 *
 * ```ts
 * const priced = withTapQuotes(createPricedGrid());
 * priced.update(grid);
 * const quote = priced.quoteFor(priced.cell(key)!); // { minMultiplier: 3.2, quoteId: grid.quote_id }
 * ```
 */
export function withTapQuotes(priced: PricedGrid, { tolerance = () => 0 }: { tolerance?: () => number } = {}): QuotedGrid {
  const quoteIds = new WeakMap<GridCell, string>();
  /** The one cell whose next tap takes the multiplier a refusal named. */
  let requote: { key: string; multiplier: number; quoteId: string | undefined } | undefined;

  const quoteIdOf = (cell: GridCell) => quoteIds.get(cell) ?? priced.latest()?.quote_id;

  return {
    ...priced,
    update(grid: Grid) {
      priced.update(grid);
      if (priced.latest() !== grid) return;
      for (const c of grid.cells) {
        const cell = priced.cell(cellKey(c.t_start, c.price_low));
        if (cell) quoteIds.set(cell, grid.quote_id);
      }
    },
    quoteFor(cell) {
      const taken = requote?.key === cell.key ? requote : undefined;
      requote = undefined;
      const quoteId = taken?.quoteId ?? quoteIdOf(cell);
      // A retry asks for the multiplier the refusal named, a first tap for the one shown; either allows the player's
      // tolerance below it when they turned it on (a multiplier that keeps falling would refuse every exact retry).
      const minMultiplier = (taken?.multiplier ?? cell.multiplier) * (1 - tolerance());
      return { minMultiplier, ...(quoteId ? { quoteId } : {}) };
    },
    answered(cell, outcome) {
      if (outcome.ok || outcome.code !== "quote_changed" || outcome.currentMultiplier === undefined) return;
      requote = { key: cell.key, multiplier: outcome.currentMultiplier, quoteId: quoteIdOf(cell) };
    },
  };
}
