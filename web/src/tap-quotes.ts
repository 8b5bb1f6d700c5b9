import type { Grid } from "../../common/contracts/grid.ts";
import type { BetOutcome } from "./api-client.ts";
import type { BetQuote } from "./bet-book.ts";
import { cellKey, type GridCell, type PricedGrid } from "./grid-model.ts";

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
   * one tap after a `quote_changed` refusal on that same cell, the multiplier the refusal named.
   */
  quoteFor(cell: GridCell): BetQuote;
  /** Takes a bet's answer: a `quote_changed` refusal makes the cell's next tap ask the current multiplier. */
  answered(cell: GridCell, outcome: BetOutcome): void;
}

/**
 * Wraps `priced` so each cell remembers the grid (quote) it was priced in, and a refused quote can be taken with one
 * more tap. The API takes a bet only at no less than the multiplier sent (409 `quote_changed` otherwise, nothing
 * debited), so the player is never filled at a price they did not see.
 *
 * ```ts
 * const priced = withTapQuotes(createPricedGrid());
 * priced.update(grid);
 * const quote = priced.quoteFor(priced.cell(key)!); // { minMultiplier: 3.2, quoteId: grid.quote_id }
 * ```
 */
export function withTapQuotes(priced: PricedGrid): QuotedGrid {
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
      return { minMultiplier: taken?.multiplier ?? cell.multiplier, ...(quoteId ? { quoteId } : {}) };
    },
    answered(cell, outcome) {
      if (outcome.ok || outcome.code !== "quote_changed" || outcome.currentMultiplier === undefined) return;
      requote = { key: cell.key, multiplier: outcome.currentMultiplier, quoteId: quoteIdOf(cell) };
    },
  };
}
