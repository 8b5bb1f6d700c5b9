import { expect, test } from "bun:test";
import { statusText } from "./history-panel.ts";

test("a bet's status in words, with what it pays or paid", () => {
  expect(statusText({ status: "open", payout: 0, potentialPayout: 11.75 })).toBe("open · pays $11.75");
  expect(statusText({ status: "won", payout: 11.75, potentialPayout: 11.75 })).toBe("won +$11.75");
  expect(statusText({ status: "lost", payout: 0, potentialPayout: 11.75 })).toBe("lost");
  expect(statusText({ status: "void", payout: 5, potentialPayout: 11.75 })).toBe("void · $5 back");
});
