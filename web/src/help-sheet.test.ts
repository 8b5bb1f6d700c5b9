import { expect, test } from "bun:test";
import { helpFigures } from "./help-sheet.ts";

test("the sheet states the grid's own band, window, lock and house edge", () => {
  expect(helpFigures({ band: 10, column_ms: 5000, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9 })).toEqual({ band: "$10", column: "5 s", lock: "2 s", edge: "5%", return: "95%", "min-rtp": "90%" });
  expect(helpFigures({ band: 2.5, column_ms: 1000, lock_ms: 500, house_edge: 0.035, min_rtp: 0.925 })).toEqual({ band: "$2.50", column: "1 s", lock: "0.5 s", edge: "3.5%", return: "96.5%", "min-rtp": "92.5%" });
});
