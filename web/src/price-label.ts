import type { ConnState, PriceOrigin } from "./ws-client/mod.ts";

/**
 * The label beside the price: its text and a kind for styling (`data-source`).
 *
 * ```ts
 * const label: SourceLabel = { text: "3 venues", kind: "venues" };
 * ```
 */
export interface SourceLabel {
  text: string;
  kind: "mock" | "venues" | "unknown";
}

/**
 * What the page says about a price's origin: `simulated` for the mock,
 * `N venues` for the exchanges' index, nothing when the tick does not say.
 *
 * ```ts
 * sourceLabel({ source: "venues", venues: 3 }); // { text: "3 venues", kind: "venues" }
 * sourceLabel({ source: "mock" });              // { text: "simulated", kind: "mock" }
 * ```
 */
export function sourceLabel({ source, venues }: PriceOrigin): SourceLabel {
  switch (source) {
    case "mock":
      return { text: "simulated", kind: "mock" };
    case "venues":
      return { text: venues === undefined ? "exchanges" : `${venues} venue${venues === 1 ? "" : "s"}`, kind: "venues" };
    case undefined:
      return { text: "", kind: "unknown" };
    default:
      throw new TypeError(`unknown price source ${JSON.stringify(source satisfies never)}`);
  }
}

/**
 * The badge beside a price that is no longer live.
 *
 * ```ts
 * staleEl.textContent = PAUSED_BADGE; // "PAUSED"
 * ```
 */
export const PAUSED_BADGE = "PAUSED";

/**
 * The board's overlay: why betting is paused, or "" when it is not. A stale
 * price comes first (the grid is locked), then a grid too old to bet on.
 *
 * ```ts
 * pausedText({ stale: true, conn: "live", gridStale: false, hasGrid: true }); // "Paused: no live price"
 * ```
 */
export function pausedText({ stale, conn, gridStale, hasGrid }: { stale: boolean; conn: ConnState; gridStale: boolean; hasGrid: boolean }): string {
  if (stale) return conn === "live" ? "Paused: no live price" : `Paused: no live price (${conn}…)`;
  if (gridStale && hasGrid) return "Betting paused: waiting for new multipliers";
  return "";
}
