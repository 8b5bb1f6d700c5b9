import { describe, expect, test } from "bun:test";
import { DEFAULT_GRID } from "./grid-model.ts";
import { gridLeft } from "./grid-view.ts";
import { addPan, clampPan, DRAG_THRESHOLD_PX, dragPan, isAtNow, isDrag, keyPan, NO_PAN, panBounds, revealPan, wheelPan } from "./pan.ts";
import { boardLayout, scalesFor } from "./scales.ts";

describe("panBounds", () => {
  test("reaches the grid's last column, top row and bottom row, and no further", () => {
    expect(panBounds({ right: 1600, top: -60, bottom: 700 }, { width: 1370, height: 600 })).toEqual({ minX: 0, maxX: 230, minY: -100, maxY: 60 });
  });
  test("a grid that fits on screen does not pan", () => {
    expect(panBounds({ right: 900, top: 20, bottom: 500 }, { width: 1370, height: 600 })).toEqual({ minX: 0, maxX: 0, minY: 0, maxY: 0 });
  });
});

describe("clampPan", () => {
  const bounds = { minX: 0, maxX: 230, minY: -100, maxY: 60 };
  test("holds a pan inside the bounds", () => {
    expect(clampPan({ x: 900, y: -500 }, bounds)).toEqual({ x: 230, y: -100 });
    expect(clampPan({ x: -40, y: 500 }, bounds)).toEqual({ x: 0, y: 60 });
    expect(clampPan({ x: 10, y: -10 }, bounds)).toEqual({ x: 10, y: -10 });
  });
  test("the live view is never past it", () => {
    expect(clampPan({ x: -10, y: 0 }, { minX: 0, maxX: 0, minY: 0, maxY: 0 })).toEqual(NO_PAN);
    expect(Object.is(clampPan({ x: -0, y: -0 }, bounds).x, 0)).toBe(true);
  });
});

describe("isDrag", () => {
  test("a small wobble is a tap", () => {
    expect(isDrag(3, 4)).toBe(false);
    expect(isDrag(0, DRAG_THRESHOLD_PX - 0.1)).toBe(false);
  });
  test("past the threshold, either way, is a drag", () => {
    expect(isDrag(-DRAG_THRESHOLD_PX, 0)).toBe(true);
    expect(isDrag(6, 6)).toBe(true);
    expect(isDrag(2, 2, 2)).toBe(true);
  });
});

describe("dragPan", () => {
  test("the cells follow the pointer", () => {
    expect(dragPan(NO_PAN, { dx: -90, dy: 40 })).toEqual({ x: 90, y: 40 });
    expect(dragPan({ x: 90, y: 40 }, { dx: 90, dy: -40 })).toEqual({ x: 0, y: 0 });
  });
});

describe("wheelPan", () => {
  const page = { width: 1000, height: 600 };
  test("vertical wheel moves through rows: down shows lower prices", () => {
    expect(wheelPan({ deltaX: 0, deltaY: 100, deltaMode: 0, shiftKey: false }, page)).toEqual({ x: 0, y: -100 });
  });
  test("sideways wheel, or Shift with the wheel, moves through columns", () => {
    expect(wheelPan({ deltaX: 50, deltaY: 0, deltaMode: 0, shiftKey: false }, page)).toEqual({ x: 50, y: 0 });
    expect(wheelPan({ deltaX: 0, deltaY: 100, deltaMode: 0, shiftKey: true }, page)).toEqual({ x: 100, y: 0 });
  });
  test("lines and pages become pixels", () => {
    expect(wheelPan({ deltaX: 0, deltaY: 3, deltaMode: 1, shiftKey: false }, page)).toEqual({ x: 0, y: -48 });
    expect(wheelPan({ deltaX: 1, deltaY: 0, deltaMode: 2, shiftKey: false }, page)).toEqual({ x: 1000, y: 0 });
  });
});

describe("keyPan", () => {
  const step = { columnWidth: 91, rowHeight: 41 };
  test("one column or one row an arrow", () => {
    expect(keyPan("ArrowRight", step)).toEqual({ x: 91, y: 0 });
    expect(keyPan("ArrowLeft", step)).toEqual({ x: -91, y: 0 });
    expect(keyPan("ArrowUp", step)).toEqual({ x: 0, y: 41 });
    expect(keyPan("ArrowDown", step)).toEqual({ x: 0, y: -41 });
    expect(keyPan("Enter", step)).toBeUndefined();
  });
});

describe("snap back", () => {
  test("panning back to now is the live view", () => {
    const away = addPan(NO_PAN, { x: 91, y: 41 });
    expect(isAtNow(away)).toBe(false);
    expect(isAtNow(addPan(away, { x: -91, y: -41 }))).toBe(true);
    expect(isAtNow({ x: 0.3, y: -0.3 })).toBe(true);
  });
});

describe("a panned board's scales", () => {
  const layout = boardLayout(1370, 878);
  const now = 1_700_000_000_000;
  test("a pan moves everything the other way, and the inverse maps follow", () => {
    const live = scalesFor(layout, DEFAULT_GRID, now, 42_000);
    const panned = scalesFor(layout, DEFAULT_GRID, now, 42_000, { x: 120, y: 40 });
    expect(panned.x(now)).toBeCloseTo(live.x(now) - 120);
    expect(panned.y(42_000)).toBeCloseTo(live.y(42_000) + 40);
    expect(panned.timeAt(panned.x(now + 7000))).toBeCloseTo(now + 7000);
    expect(panned.priceAt(panned.y(42_031))).toBeCloseTo(42_031);
  });
  test("the grid's box starts at the now line, and never outside the plot", () => {
    expect(gridLeft(layout, scalesFor(layout, DEFAULT_GRID, now, 42_000))).toBe(layout.nowX);
    expect(gridLeft(layout, scalesFor(layout, DEFAULT_GRID, now, 42_000, { x: 100, y: 0 }))).toBe(layout.nowX - 100);
    expect(gridLeft(layout, scalesFor(layout, DEFAULT_GRID, now, 42_000, { x: 5000, y: 0 }))).toBe(0);
  });
});

test("a cell beyond the visible grid is revealed by the least pan; one inside needs none", () => {
  const view = { left: 100, right: 900, top: 50, bottom: 650 };
  expect(revealPan({ left: 300, right: 380, top: 200, bottom: 240 }, view)).toEqual({ x: 0, y: 0 });
  // Right and below: the view moves right (x grows) and down (y falls), as a drag the other way would.
  expect(revealPan({ left: 880, right: 960, top: 630, bottom: 670 }, view)).toEqual({ x: 60, y: -20 });
  // Left and above.
  expect(revealPan({ left: 70, right: 150, top: 30, bottom: 70 }, view)).toEqual({ x: -30, y: 20 });
});
