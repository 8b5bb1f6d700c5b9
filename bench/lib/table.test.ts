import { expect, test } from "bun:test";
import { formatNumber, formatRatio, formatTable } from "./table.ts";

test("formats a Markdown table with padded columns and placeholders", () => {
  expect(formatTable(["a", "bb"], [{ a: "1" }, { a: "22", bb: "x" }])).toBe(
    ["| a  | bb |", "|----|----|", "| 1  | –  |", "| 22 | x  |"].join("\n"),
  );
});

test("numbers and ratios", () => {
  expect(formatNumber(12345.678, 1)).toBe("12,345.7");
  expect(formatNumber(Number.NaN)).toBe("–");
  expect(formatRatio(3, 2)).toBe("1.50×");
  expect(formatRatio(3, 0)).toBe("–");
  expect(formatRatio(1.1984, 1, 3)).toBe("1.198×");
});
