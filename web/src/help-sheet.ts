import type { Grid } from "../../common/contracts/grid.ts";
import { formatStake } from "./format.ts";

/**
 * The figures the "how it works" sheet states, from the priced grid: band, column, lock and house edge, in words.
 *
 * ```ts
 * helpFigures({ band: 10, column_ms: 5000, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9 });
 * // { band: "$10", column: "5 s", lock: "2 s", edge: "5%", return: "95%", "min-rtp": "90%" }
 * ```
 */
export function helpFigures(grid: Pick<Grid, "band" | "column_ms" | "lock_ms" | "house_edge" | "min_rtp">): Record<"band" | "column" | "lock" | "edge" | "return" | "min-rtp", string> {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;
  return {
    band: formatStake(grid.band),
    column: seconds(grid.column_ms),
    lock: seconds(grid.lock_ms),
    edge: percent(grid.house_edge),
    return: percent(1 - grid.house_edge),
    "min-rtp": percent(grid.min_rtp),
  };
}

/**
 * Wires the sheet (`<dialog data-testid=help>`) to its header button: it opens as a modal (focus moves in, Escape or
 * ✕ closes it, focus goes back), and `show` writes the grid's own figures into it.
 *
 * ```ts
 * const help = connectHelpSheet(document.body);
 * help.show(grid);
 * ```
 */
export function connectHelpSheet(root: ParentNode): { show(grid: Grid): void } {
  const dialog = root.querySelector<HTMLDialogElement>("[data-testid=help]")!;
  const opener = root.querySelector<HTMLButtonElement>("[data-testid=help-open]")!;
  opener.addEventListener("click", () => {
    if (!dialog.open) dialog.showModal();
  });
  dialog.addEventListener("close", () => opener.focus());
  let shown = "";
  return {
    show(grid) {
      const figures = helpFigures(grid);
      const key = JSON.stringify(figures);
      if (key === shown) return;
      shown = key;
      for (const el of dialog.querySelectorAll<HTMLElement>("[data-help]")) {
        const name = el.dataset.help as keyof typeof figures;
        if (figures[name] !== undefined) el.textContent = figures[name];
      }
    },
  };
}
