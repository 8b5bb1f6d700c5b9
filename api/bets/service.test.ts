import { describe, expect, test } from "bun:test";
import { HttpError } from "../http/http-error.ts";
import { prepareBet } from "./service.ts";

const now = 1_700_000_000_000;
const cell = { t_start: now + 10_000, t_end: now + 15_000, price_low: 42000.5, price_high: 42010.25 };

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return (error as HttpError).details.map((d) => d.path);
  }
  throw new Error("expected a validation failure");
}

describe("prepareBet", () => {
  test("converts money and prices to integer cents and stamps a time-ordered id", () => {
    const a = prepareBet({ user_id: "u", amount: 0.07, cell }, now);
    const b = prepareBet({ user_id: "u", amount: 0.07, cell }, now);
    expect(a).toMatchObject({ userId: "u", amountCents: 7, priceLowCents: 4_200_050, priceHighCents: 4_201_025, createdAt: now });
    expect(a.id < b.id).toBe(true);
  });

  test("lists every problem the schema cannot see", () => {
    expect(problemsOf(() => prepareBet({ user_id: "u", amount: 1.001, cell: { ...cell, price_low: 1.234 } }, now))).toEqual([
      "/amount",
      "/cell/price_low",
    ]);
    expect(problemsOf(() => prepareBet({ user_id: "u", amount: 1, cell: { ...cell, t_end: cell.t_start } }, now))).toEqual(["/cell/t_end"]);
    expect(problemsOf(() => prepareBet({ user_id: "u", amount: 1, cell: { ...cell, t_start: now - 5000, t_end: now } }, now))).toEqual([
      "/cell/t_end",
    ]);
    expect(problemsOf(() => prepareBet({ user_id: "u", amount: 1, cell: { ...cell, t_end: now + 2 * 3_600_000 } }, now))).toEqual(["/cell"]);
    expect(problemsOf(() => prepareBet({ user_id: "u", amount: 0.001, cell }, now))).toEqual(["/amount"]);
  });
});
