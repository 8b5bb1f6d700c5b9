import { expect, test } from "bun:test";
import { lockedReason, unofferedReason } from "./locked-reason.ts";

test("a locked cell says why: prices paused, the window under way, or too close to its start", () => {
  expect(lockedReason({ frozen: true, startsInMs: 9000, lockMs: 2000 })).toStartWith("Betting is paused");
  expect(lockedReason({ frozen: false, startsInMs: -100, lockMs: 2000 })).toBe("Too late: this window has already started. Pick a cell further right.");
  expect(lockedReason({ frozen: false, startsInMs: 1200, lockMs: 2000 })).toBe("Too late: bets on a window close 2 s before it opens. Pick a cell further right.");
  expect(lockedReason({ frozen: false, startsInMs: 300, lockMs: 500 })).toContain("close 0.5 s before");
});

test("a cell not offered says what it would return and the floor every offered cell meets", () => {
  expect(unofferedReason({ rtp: 0.2271, minRtp: 0.9 })).toBe(
    "Not offered: on average this cell would pay back only 22% of the stake, below the 90% every offered cell returns. Pick a cell nearer the price.",
  );
  expect(unofferedReason({ rtp: 0.8999, minRtp: undefined })).toContain("only 89% of the stake, below the 90%");
});

test("a cell not offered though it would return the floor at the cap says its fair multiplier is above the highest paid", () => {
  expect(unofferedReason({ rtp: 0.9402, minRtp: 0.9 })).toBe(
    "Not offered: this cell is so unlikely to be reached that a fair multiplier for it would be above the highest paid. Pick a cell nearer the price.",
  );
  expect(unofferedReason({ rtp: 0.9, minRtp: 0.9 })).toContain("above the highest paid");
  expect(unofferedReason({ rtp: 0.8999, minRtp: 0.9 })).toContain("only 89%");
});
