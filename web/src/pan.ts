/**
 * Pure pan math for the board: how far the player has moved the view away from
 * "now", in CSS pixels, and where that must stop. `x` > 0 looks later (the cells
 * move left), `y` > 0 looks at higher prices (the cells move down); `{ x: 0, y: 0 }`
 * is the live view, following now.
 *
 * ```ts
 * const pan: Pan = clampPan(dragPan(NO_PAN, { dx: -120, dy: 0 }), bounds);
 * ```
 */
export interface Pan {
  x: number;
  y: number;
}

/** The live view: no pan. */
export const NO_PAN: Pan = Object.freeze({ x: 0, y: 0 });

/**
 * How far the view may pan each way (px).
 *
 * ```ts
 * const bounds: PanBounds = { minX: 0, maxX: 420, minY: -80, maxY: 120 };
 * ```
 */
export interface PanBounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** A press that moves less than this (px) is a tap; further, a drag that never places a bet. */
export const DRAG_THRESHOLD_PX = 8;

/** A wheel "line" (deltaMode 1), in px. */
const WHEEL_LINE_PX = 16;

/**
 * The bounds that keep the grid the API sent on screen: from the live view to its
 * last column, and up to its top row and down to its bottom row. `extent` is
 * where the grid's right, top and bottom edges fall in the unpanned view (px).
 *
 * ```ts
 * panBounds({ right: 1600, top: -60, bottom: 700 }, { left: 0, width: 1370, height: 878 }) // { minX: 0, maxX: 230, minY: 0, maxY: 60 }
 * ```
 */
export function panBounds(extent: { right: number; top: number; bottom: number }, plot: { width: number; height: number }): PanBounds {
  return {
    minX: 0,
    maxX: Math.max(0, extent.right - plot.width),
    minY: Math.min(0, plot.height - extent.bottom),
    maxY: Math.max(0, -extent.top),
  };
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * `pan` held inside `bounds`.
 *
 * ```ts
 * clampPan({ x: 900, y: -5 }, { minX: 0, maxX: 230, minY: 0, maxY: 60 }) // { x: 230, y: 0 }
 * ```
 */
export function clampPan(pan: Pan, bounds: PanBounds): Pan {
  const x = clamp(pan.x, bounds.minX, bounds.maxX);
  const y = clamp(pan.y, bounds.minY, bounds.maxY);
  // -0 would read as "panned" to Object.is; keep the live view's zero plain.
  return { x: x + 0, y: y + 0 };
}

/**
 * True once a press has moved far enough to be a drag rather than a tap.
 *
 * ```ts
 * isDrag(3, 4) // false: a shaky tap
 * ```
 */
export function isDrag(dx: number, dy: number, threshold = DRAG_THRESHOLD_PX): boolean {
  return Math.hypot(dx, dy) >= threshold;
}

/**
 * The pan after a drag that started at `start` and has moved by `dx`, `dy` (px):
 * the cells follow the pointer.
 *
 * ```ts
 * dragPan({ x: 0, y: 0 }, { dx: -90, dy: 40 }) // { x: 90, y: 40 }
 * ```
 */
export function dragPan(start: Pan, { dx, dy }: { dx: number; dy: number }): Pan {
  return { x: start.x - dx, y: start.y + dy };
}

/**
 * How far a wheel event pans (px): up and down move through rows, sideways (or
 * Shift with the wheel) through columns. Lines and pages are turned into pixels.
 *
 * ```ts
 * wheelPan({ deltaX: 0, deltaY: 100, deltaMode: 0, shiftKey: false }, { width: 1370, height: 878 }) // { x: 0, y: -100 }
 * ```
 */
export function wheelPan(
  wheel: { deltaX: number; deltaY: number; deltaMode: number; shiftKey: boolean },
  page: { width: number; height: number },
): Pan {
  const unit = (px: number, size: number) => (wheel.deltaMode === 1 ? px * WHEEL_LINE_PX : wheel.deltaMode === 2 ? px * size : px);
  let dx = unit(wheel.deltaX, page.width);
  let dy = unit(wheel.deltaY, page.height);
  if (wheel.shiftKey && dx === 0) [dx, dy] = [dy, 0];
  return { x: dx + 0, y: -dy + 0 };
}

/**
 * How far an arrow key pans: one column or one row. Undefined for any other key.
 *
 * ```ts
 * keyPan("ArrowRight", { columnWidth: 91, rowHeight: 41 }) // { x: 91, y: 0 }
 * ```
 */
export function keyPan(key: string, step: { columnWidth: number; rowHeight: number }): Pan | undefined {
  switch (key) {
    case "ArrowRight":
      return { x: step.columnWidth, y: 0 };
    case "ArrowLeft":
      return { x: -step.columnWidth, y: 0 };
    case "ArrowUp":
      return { x: 0, y: step.rowHeight };
    case "ArrowDown":
      return { x: 0, y: -step.rowHeight };
    default:
      return undefined;
  }
}

/**
 * True when `pan` is the live view, within half a pixel: panning back to now resumes following it.
 *
 * ```ts
 * isAtNow({ x: 0.2, y: 0 }) // true
 * ```
 */
export function isAtNow(pan: Pan): boolean {
  return Math.abs(pan.x) < 0.5 && Math.abs(pan.y) < 0.5;
}

/** The sum of two pans. */
export function addPan(a: Pan, b: Pan): Pan {
  return { x: a.x + b.x, y: a.y + b.y };
}

/**
 * The pan that brings `cell` (a rectangle on screen) inside `view` (the visible grid), moving no further than needed;
 * no pan when it is inside already. Signs as `dragPan`: x grows to show what is right, y grows to show what is above.
 *
 * ```ts
 * revealPan({ left: 900, right: 980, top: 100, bottom: 140 }, { left: 0, right: 940, top: 0, bottom: 600 }); // { x: 40, y: 0 }
 * ```
 */
export function revealPan(cell: { left: number; right: number; top: number; bottom: number }, view: { left: number; right: number; top: number; bottom: number }): Pan {
  const x = cell.right > view.right ? cell.right - view.right : cell.left < view.left ? cell.left - view.left : 0;
  const y = cell.top < view.top ? view.top - cell.top : cell.bottom > view.bottom ? view.bottom - cell.bottom : 0;
  return { x, y };
}
