import type { BetBook, CellBets } from "./bet-book.ts";
import { formatBand, formatClock, formatMultiplier, formatStake } from "./format.ts";
import { cellKey, type GridCell, type GridSpec, isLocked } from "./grid-model.ts";
import { lockedReason, unofferedReason } from "./locked-reason.ts";
import type { BoardLayout, Scales } from "./scales.ts";

/** After a touch ends, the view holds still this much longer: a touch has no hover to say the finger is still near. */
const TOUCH_HOLD_MS = 400;

/** The layer's cells are placed afresh once it has travelled this far (px) from where they were placed, to keep offsets small. */
const MAX_LAYER_TRAVEL_PX = 20_000;

/**
 * What one frame of the grid shows.
 *
 * ```ts
 * const frame: GridFrame = { layout, scales, spec: grid.spec(), cells: grid.cells(now), frozen: false, bets: book };
 * ```
 */
export interface GridFrame {
  layout: BoardLayout;
  scales: Scales;
  spec: GridSpec;
  /** The cells to draw: the priced grid's, and any others holding one of the player's bets (locked). */
  cells: readonly GridCell[];
  /** True while prices cannot be trusted (stale or disconnected): every cell is locked. */
  frozen: boolean;
  bets: BetBook;
}

/**
 * The grid's buttons, brought up to date once a frame.
 *
 * ```ts
 * const view: GridView = createGridView({ container, onTap: (cell) => book.place(cell, 5) });
 * ```
 */
export interface GridView {
  /** Adds, moves, updates and removes cell buttons to match `frame`. */
  render(frame: GridFrame): void;
  /** True while a pointer is over the grid or pressing it: the view should not pan under it. */
  pointing(): boolean;
}

/** One button and what was last written to it, so a frame touches the DOM only where something changed. */
interface CellNode {
  cell: GridCell;
  button: HTMLButtonElement;
  disabled: boolean;
  multiplier: number;
  /** The multiplier of the player's bets on this cell, shown instead of the live one. */
  betMultiplier: number | undefined;
  betVersion: number;
  multEl: HTMLElement;
  stakeEl: HTMLElement;
}

/**
 * The tap grid: one `<button>` per priced cell over the chart's future side, carrying
 * the cell in `data-t-start`, `data-t-end`, `data-price-low`, `data-price-high`
 * and its multiplier in `data-multiplier` (shown as `2.35×`).
 * Cells sit at fixed offsets inside one layer, and the layer alone moves each
 * frame (a single transform), so scrolling costs no layout.
 *
 * Keyboard: the grid is one tab stop; arrow keys move between cells, Enter or
 * Space taps; Shift with an arrow is left to the board, which pans (app.ts).
 * `onTap` gets only cells that were tappable when tapped.
 *
 * ```ts
 * const view = createGridView({ container: document.querySelector<HTMLElement>(".grid")!, onTap: (cell) => book.place(cell, stakes.stake()) });
 * view.render({ layout, scales, spec: grid.spec(), cells: grid.cells(now), frozen: false, bets: book });
 * ```
 */
export function createGridView({
  container,
  onTap,
  onLockedTap = () => {},
}: {
  container: HTMLElement;
  onTap: (cell: GridCell) => void;
  /** A tap on a cell that cannot be taken, with the reason in words. */
  onLockedTap?: (cell: GridCell, reason: string) => void;
}): GridView {
  const layer = document.createElement("div");
  layer.className = "grid-layer";
  container.append(layer);
  const nodes = new Map<string, CellNode>();
  let origin: { t: number; price: number; layout: BoardLayout } | undefined;
  /** The cell that holds the grid's one tab stop. */
  let focusKey: string | undefined;
  let spec: GridSpec | undefined;
  let frozen = false;
  let now = 0;

  const place = (node: CellNode, layout: BoardLayout, at: { t: number; price: number }, scales: Scales) => {
    const left = (node.cell.t_start - at.t) * scales.pxPerMs;
    const top = (at.price - node.cell.price_high) * scales.pxPerPrice;
    node.button.style.transform = `translate(${left}px, ${top}px)`;
    node.button.style.width = `${layout.columnWidth}px`;
    node.button.style.height = `${layout.rowHeight}px`;
  };

  const create = (cell: GridCell): CellNode => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cell";
    button.tabIndex = -1;
    button.dataset.key = cell.key;
    button.dataset.tStart = String(cell.t_start);
    button.dataset.tEnd = String(cell.t_end);
    button.dataset.priceLow = String(cell.price_low);
    button.dataset.priceHigh = String(cell.price_high);
    const multEl = document.createElement("span");
    multEl.className = "mult";
    const stakeEl = document.createElement("span");
    stakeEl.className = "stake-mark";
    button.append(multEl, stakeEl);
    layer.append(button);
    const node: CellNode = { cell, button, disabled: false, multiplier: Number.NaN, betMultiplier: undefined, betVersion: -1, multEl, stakeEl };
    showMultiplier(node, cell.multiplier);
    return node;
  };

  /** The live multiplier in `data-multiplier`; the text shows the bets' own multiplier once the cell holds one. */
  const showMultiplier = (node: CellNode, multiplier: number) => {
    node.multiplier = multiplier;
    const { cell, button } = node;
    button.dataset.multiplier = String(multiplier);
    const shown = node.betMultiplier ?? multiplier;
    node.multEl.textContent = formatMultiplier(shown);
    const where = `${formatBand(cell.price_low)} to ${formatBand(cell.price_high)}, from ${formatClock(cell.t_start)} to ${formatClock(cell.t_end)}`;
    button.setAttribute("aria-label", node.betMultiplier === undefined ? `${formatMultiplier(multiplier)} on ${where}` : `your bet at ${formatMultiplier(shown)} on ${where}`);
  };

  const showBets = (node: CellNode, bets: BetBook) => {
    const state = bets.cell(node.cell.key);
    const { button } = node;
    button.classList.toggle("pending", (state?.pending ?? 0) > 0);
    button.classList.toggle("accepted", (state?.acceptedCents ?? 0) > 0);
    button.classList.toggle("rejected", state?.error !== undefined && state.pending === 0);
    const betMultiplier = state && state.acceptedCents > 0 ? state.multiplier : undefined;
    if (betMultiplier !== node.betMultiplier) {
      node.betMultiplier = betMultiplier;
      if (betMultiplier === undefined) delete button.dataset.betMultiplier;
      else button.dataset.betMultiplier = String(betMultiplier);
      showMultiplier(node, node.multiplier);
    }
    const result = state?.result;
    for (const name of ["won", "lost", "void"] as const) button.classList.toggle(name, result === name);
    if (result) button.dataset.result = result;
    else delete button.dataset.result;
    node.stakeEl.textContent = state && state.acceptedCents > 0 ? stakeMark(state) : state?.pending ? "…" : state?.error ? "!" : "";
    if (state?.error) button.title = state.error;
    else if (result === "won") button.title = `won ${formatStake(state!.paidCents / 100)} · bet ${state!.betIds.join(", ")}`;
    else if (result === "lost") button.title = `lost · bet ${state!.betIds.join(", ")}`;
    else if (result === "void") button.title = `void: ${formatStake(state!.paidCents / 100)} refunded · bet ${state!.betIds.join(", ")}`;
    else if (state?.betIds.length) button.title = `pays ${formatStake(state.payoutCents / 100)} if touched · bet ${state.betIds.join(", ")}`;
    else button.removeAttribute("title");
  };

  /** The neighbour of `key` a step away, if it is on screen and tappable. */
  const neighbour = (key: string, dColumns: number, dBands: number): CellNode | undefined => {
    const node = nodes.get(key);
    if (!node || !spec) return undefined;
    const found = nodes.get(cellKey(node.cell.t_start + dColumns * spec.columnMs, node.cell.price_low + dBands * spec.bandSize));
    return found && !found.disabled ? found : undefined;
  };

  const moveFocus = (to: CellNode) => {
    const from = focusKey ? nodes.get(focusKey) : undefined;
    if (from) from.button.tabIndex = -1;
    focusKey = to.cell.key;
    to.button.tabIndex = 0;
    to.button.focus({ preventScroll: true });
  };

  let pointerInside = false;
  let pressedUntil = 0;
  container.addEventListener("pointerenter", () => (pointerInside = true));
  container.addEventListener("pointerleave", () => (pointerInside = false));
  // A touch has no hover: hold from the press until a moment after it ends.
  container.addEventListener("pointerdown", () => (pressedUntil = Number.POSITIVE_INFINITY));
  const released = () => (pressedUntil = performance.now() + TOUCH_HOLD_MS);
  container.addEventListener("pointerup", released);
  container.addEventListener("pointercancel", released);

  layer.addEventListener("click", (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.cell");
    const node = button?.dataset.key ? nodes.get(button.dataset.key) : undefined;
    if (!node || node.disabled) return;
    if (focusKey !== node.cell.key) {
      const from = focusKey ? nodes.get(focusKey) : undefined;
      if (from) from.button.tabIndex = -1;
      focusKey = node.cell.key;
      node.button.tabIndex = 0;
    }
    onTap(node.cell);
  });

  // A disabled button gets no click, but Chromium and the others still deliver its pointerup: say why it is locked.
  layer.addEventListener("pointerup", (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.cell");
    const node = button?.dataset.key ? nodes.get(button.dataset.key) : undefined;
    if (!node || !node.disabled || !spec) return;
    const { cell } = node;
    onLockedTap(cell, !frozen && !cell.offered ? unofferedReason({ rtp: cell.rtp, minRtp: spec.minRtp }) : lockedReason({ frozen, startsInMs: cell.t_start - now, lockMs: spec.lockMs }));
  });

  layer.addEventListener("keydown", (event) => {
    if (!focusKey || event.shiftKey) return;
    const steps: Record<string, [number, number]> = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const step = steps[event.key];
    if (!step) return;
    event.preventDefault();
    const next = neighbour(focusKey, step[0], step[1]);
    if (next) moveFocus(next);
  });

  return {
    pointing: () => pointerInside || performance.now() < pressedUntil,
    render({ layout, scales, spec: frameSpec, cells, frozen: frameFrozen, bets }) {
      now = scales.now;
      frozen = frameFrozen;
      spec = frameSpec;
      // A new origin when the board is resized, or when the layer has travelled far (an hour on), to keep offsets small.
      if (!origin || origin.layout !== layout || Math.abs(scales.x(origin.t)) > MAX_LAYER_TRAVEL_PX || Math.abs(scales.y(origin.price)) > MAX_LAYER_TRAVEL_PX) {
        origin = { t: now, price: scales.centerPrice, layout };
        for (const node of nodes.values()) place(node, layout, origin, scales);
      }
      // The grid's box starts at the now line (`gridLeft`): a window that has begun shows only its remaining part.
      layer.style.transform = `translate3d(${scales.x(origin.t) - gridLeft(layout, scales)}px, ${scales.y(origin.price)}px, 0)`;

      const wanted = new Set<string>();
      for (const cell of cells) {
        wanted.add(cell.key);
        let node = nodes.get(cell.key);
        if (!node) {
          node = create(cell);
          nodes.set(cell.key, node);
          place(node, layout, origin, scales);
        } else if (node.multiplier !== cell.multiplier) {
          showMultiplier(node, cell.multiplier);
        }
        node.cell = cell;
        const disabled = frozen || !cell.offered || cell.locked || isLocked(cell, now, spec);
        node.button.classList.toggle("unavailable", !cell.offered);
        if (disabled !== node.disabled) {
          node.disabled = disabled;
          node.button.disabled = disabled;
        }
        if (node.betVersion !== bets.version()) {
          node.betVersion = bets.version();
          showBets(node, bets);
        }
      }

      // Keep the tab stop on a tappable cell: the same row one column on when its own cell locks or leaves.
      const focused = focusKey ? nodes.get(focusKey) : undefined;
      if (!focused || focused.disabled || !wanted.has(focused.cell.key)) {
        const hadFocus = focused !== undefined && document.activeElement === focused.button;
        const successor = (focused && (neighbour(focused.cell.key, 1, 0) ?? neighbour(focused.cell.key, 2, 0))) ?? firstTappable(nodes, wanted, scales.centerPrice);
        if (focused) focused.button.tabIndex = -1;
        focusKey = successor?.cell.key;
        if (successor) {
          successor.button.tabIndex = 0;
          if (hadFocus) successor.button.focus({ preventScroll: true });
        }
      }

      for (const [key, node] of nodes) {
        if (wanted.has(key)) continue;
        node.button.remove();
        nodes.delete(key);
      }
    },
  };
}

/**
 * Where the grid's box starts (px from the board's left): at the now line, wherever a pan has put it, and never
 * outside the plot.
 *
 * ```ts
 * gridEl.style.left = `${gridLeft(layout, scales)}px`;
 * ```
 */
export function gridLeft(layout: BoardLayout, scales: Scales): number {
  return Math.round(Math.min(layout.plotWidth, Math.max(0, scales.x(scales.now))));
}

/** What a cell with accepted bets shows: the stake, then what it paid. */
function stakeMark(state: CellBets): string {
  switch (state.result) {
    case "won":
      return `+${formatStake(state.paidCents / 100)}`;
    case "void":
      return `↩ ${formatStake(state.paidCents / 100)}`;
    case "lost":
    case undefined:
      return formatStake(state.acceptedCents / 100);
    default:
      throw new TypeError(`unknown result ${state.result satisfies never}`);
  }
}

/** The tappable cell in the earliest open column nearest the centre price: where a keyboard user starts. */
function firstTappable(nodes: Map<string, CellNode>, wanted: Set<string>, center: number): CellNode | undefined {
  let best: CellNode | undefined;
  for (const node of nodes.values()) {
    if (node.disabled || !wanted.has(node.cell.key)) continue;
    if (
      !best ||
      node.cell.t_start < best.cell.t_start ||
      (node.cell.t_start === best.cell.t_start &&
        Math.abs(node.cell.price_low - center) < Math.abs(best.cell.price_low - center))
    ) {
      best = node;
    }
  }
  return best;
}
