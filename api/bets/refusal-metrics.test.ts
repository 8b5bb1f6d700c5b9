import { expect, test } from "bun:test";
import type { BetAccepted, BetRequest } from "../../common/contracts/bet.ts";
import { metricsRegistry } from "../../common/metrics/registry.ts";
import { BetRefused } from "./bet-refused.ts";
import type { BetPlacement } from "./placement.ts";
import { countRefusals } from "./refusal-metrics.ts";

async function refused(reason: string): Promise<number> {
  const metric = metricsRegistry.getSingleMetric("tap_bets_refused_total");
  if (!metric) return 0;
  return (await metric.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

const request = { amount: 1, cell: { t_start: 0, t_end: 5000, price_low: 42_000, price_high: 42_010 } } as BetRequest;
const accepted = { status: "accepted", bet_id: "b1", multiplier: 2, potential_payout: 2, balance: 9 } as BetAccepted;

test("a refusal is counted by its reason and reaches the caller unchanged; an answer or another error is not counted", async () => {
  let next: () => Promise<BetAccepted> = () => Promise.reject(new BetRefused("cell_locked", "locked"));
  const placement = countRefusals({ place: () => next() } as BetPlacement);
  const locked = await refused("cell_locked");
  const error = await placement.place("p1", request, null).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(BetRefused);
  expect(await refused("cell_locked")).toBe(locked + 1);

  next = () => Promise.resolve(accepted);
  expect(await placement.place("p1", request, null)).toBe(accepted);
  next = () => Promise.reject(new Error("disk full"));
  await expect(placement.place("p1", request, null)).rejects.toThrow("disk full");
  expect(await refused("cell_locked")).toBe(locked + 1);
});
