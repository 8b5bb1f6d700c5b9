import { expect, test } from "bun:test";
import { wrappedTabIndex } from "./focus-trap.ts";

test("Tab from the last element goes to the first, Shift+Tab from the first to the last, and from outside to an end", () => {
  expect(wrappedTabIndex(5, 4, false)).toBe(0);
  expect(wrappedTabIndex(5, 0, true)).toBe(4);
  expect(wrappedTabIndex(5, -1, false)).toBe(0);
  expect(wrappedTabIndex(5, -1, true)).toBe(4);
  expect(wrappedTabIndex(1, 0, false)).toBe(0);
});

test("between the ends the browser's own move is left alone, and with nothing to focus nothing is done", () => {
  expect(wrappedTabIndex(5, 2, false)).toBeUndefined();
  expect(wrappedTabIndex(5, 2, true)).toBeUndefined();
  expect(wrappedTabIndex(5, 0, false)).toBeUndefined();
  expect(wrappedTabIndex(5, 4, true)).toBeUndefined();
  expect(wrappedTabIndex(0, -1, false)).toBeUndefined();
});
