import type { GridCell } from "./grid-model.ts";
import { addPan, clampPan, dragPan, isAtNow, isDrag, keyPan, NO_PAN, type Pan, panBounds, revealPan, wheelPan } from "./pan.ts";
import type { BoardLayout, Scales } from "./scales.ts";

/**
 * The player's pan of the board, read once a frame.
 *
 * ```ts
 * const pan: BoardPan = connectBoardPan({ board, layout: () => layout });
 * ```
 */
export interface BoardPan {
  /** The pan to draw this frame, held inside the grid's extent as seen in the unpanned `scales`. */
  frame(cells: readonly GridCell[], unpanned: Scales): Pan;
  /** True while the view is away from now: the price follower holds still. */
  panned(): boolean;
}

/**
 * Drag, wheel and Shift+arrow panning of the board, and a "Now" button that snaps back.
 *
 * A press that moves less than `DRAG_THRESHOLD_PX` stays a tap; past it, the press pans and the click it ends in is
 * swallowed, so a drag never places a bet. Arrow keys alone move the focus between cells (grid-view); with Shift
 * they pan, wherever the focus is on the board, so keyboard play and panning do not collide; a cell the arrows move to
 * beyond the visible grid is brought into view.
 *
 * ```ts
 * const pan = connectBoardPan({ board, layout: () => layout });
 * const scales = scalesFor(layout, spec, now, center, pan.frame(cells, scalesFor(layout, spec, now, center)));
 * ```
 */
export function connectBoardPan({ board, layout }: { board: HTMLElement; layout: () => BoardLayout }): BoardPan {
  let pan: Pan = NO_PAN;
  let press: { id: number; x: number; y: number; from: Pan; dragging: boolean } | undefined;
  let swallowClick = false;

  const nowButton = document.createElement("button");
  nowButton.type = "button";
  nowButton.className = "pan-now";
  nowButton.dataset.testid = "pan-now";
  nowButton.textContent = "Now";
  nowButton.title = "Back to now (the live view)";
  nowButton.hidden = true;
  board.append(nowButton);

  const set = (next: Pan) => {
    pan = isAtNow(next) ? NO_PAN : next;
    nowButton.hidden = pan === NO_PAN;
    board.dataset.panned = String(pan !== NO_PAN);
  };
  nowButton.addEventListener("click", (event) => {
    event.stopPropagation();
    set(NO_PAN);
  });

  board.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target === nowButton) return;
    swallowClick = false;
    press = { id: event.pointerId, x: event.clientX, y: event.clientY, from: pan, dragging: false };
  });
  board.addEventListener("pointermove", (event) => {
    if (!press || event.pointerId !== press.id) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!press.dragging && !isDrag(dx, dy)) return;
    press.dragging = true;
    set(dragPan(press.from, { dx, dy }));
  });
  const release = (event: PointerEvent) => {
    if (!press || event.pointerId !== press.id) return;
    if (press.dragging) {
      swallowClick = true;
      // The click, if any, follows in this task; a later Enter on a cell must not be swallowed.
      setTimeout(() => (swallowClick = false), 0);
    }
    press = undefined;
  };
  board.addEventListener("pointerup", release);
  board.addEventListener("pointercancel", release);
  // Capture: this runs before the grid's own click handler, which would place a bet.
  board.addEventListener(
    "click",
    (event) => {
      if (!swallowClick) return;
      swallowClick = false;
      event.stopPropagation();
      event.preventDefault();
    },
    true,
  );

  board.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const { plotWidth, plotHeight } = layout();
      set(addPan(pan, wheelPan(event, { width: plotWidth, height: plotHeight })));
    },
    { passive: false },
  );

  // A cell the keyboard moves to beyond the visible grid pulls the view along, just far enough to show it.
  board.addEventListener("focusin", (event) => {
    const cell = (event.target as Element | null)?.closest?.("button.cell");
    const grid = board.querySelector(".grid");
    // Only keyboard focus: a press focuses its cell too, and moving that cell under the pointer would lose the tap.
    if (!cell || !grid || !cell.matches(":focus-visible")) return;
    const reveal = revealPan(cell.getBoundingClientRect(), grid.getBoundingClientRect());
    if (reveal.x !== 0 || reveal.y !== 0) set(addPan(pan, reveal));
  });

  board.addEventListener("keydown", (event) => {
    if (!event.shiftKey) return;
    const step = keyPan(event.key, layout());
    if (!step) return;
    event.preventDefault();
    set(addPan(pan, step));
  });

  return {
    panned: () => pan !== NO_PAN,
    frame(cells, unpanned) {
      if (pan === NO_PAN || cells.length === 0) return pan;
      const { plotWidth, plotHeight } = layout();
      let right = Number.NEGATIVE_INFINITY;
      let top = Number.POSITIVE_INFINITY;
      let bottom = Number.NEGATIVE_INFINITY;
      for (const cell of cells) {
        right = Math.max(right, unpanned.x(cell.t_end));
        top = Math.min(top, unpanned.y(cell.price_high));
        bottom = Math.max(bottom, unpanned.y(cell.price_low));
      }
      const held = clampPan(pan, panBounds({ right, top, bottom }, { width: plotWidth, height: plotHeight }));
      if (held.x !== pan.x || held.y !== pan.y) set(held);
      return pan;
    },
  };
}
