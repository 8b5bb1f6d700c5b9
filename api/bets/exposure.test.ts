import { describe, expect, test } from "bun:test";
import { metricsText } from "../../common/metrics/registry.ts";
import { createExposure, type ExposureEntry } from "./exposure.ts";

const bet = (playerId: string, stakeCents: number, tStart = 5000, lowCents = 100): ExposureEntry => ({
  playerId,
  tStart,
  lowCents,
  stakeCents,
  multiplierCenti: 200,
});

describe("exposure limits", () => {
  test("counts open bets per player and releases them", () => {
    const exposure = createExposure({ maxOpenBets: 2, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e9 });
    expect(exposure.reserve(bet("p", 1)).ok).toBe(true);
    expect(exposure.reserve(bet("p", 1)).ok).toBe(true);
    expect(exposure.reserve(bet("p", 1))).toEqual({ ok: false, limit: "max_open_bets" });
    expect(exposure.reserve(bet("q", 1)).ok).toBe(true);
    exposure.release(bet("p", 1));
    expect(exposure.reserve(bet("p", 1)).ok).toBe(true);
  });

  test("a bet whose figures are not numbers is refused and leaves the totals, and so the limits, working", () => {
    const exposure = createExposure({ maxOpenBets: 10, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1000 });
    expect(exposure.reserve({ ...bet("p", 100), multiplierCenti: Number.NaN }).ok).toBe(false);
    expect(exposure.houseLiabilityCents()).toBe(0);
    expect(exposure.reserve(bet("p", 400)).ok).toBe(true);
    expect(exposure.reserve(bet("p", 200))).toEqual({ ok: false, limit: "max_house_liability" });
  });

  test("caps the potential payout per cell and for the house", () => {
    const exposure = createExposure({ maxOpenBets: 100, maxCellLiabilityCents: 1000, maxHouseLiabilityCents: 1500 });
    expect(exposure.reserve(bet("p", 400)).ok).toBe(true);
    expect(exposure.reserve(bet("q", 150))).toEqual({ ok: false, limit: "max_cell_liability" });
    expect(exposure.reserve(bet("q", 100)).ok).toBe(true);
    expect(exposure.reserve(bet("q", 300, 10_000))).toEqual({ ok: false, limit: "max_house_liability" });
    expect(exposure.houseLiabilityCents()).toBe(1000);
  });
});

test("the house's open bets, open stake and potential payout are read from the book when metrics are scraped", async () => {
  const exposure = createExposure({ maxOpenBets: 100, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e9 });
  exposure.reserve(bet("p", 400));
  exposure.reserve(bet("q", 150, 10_000));
  exposure.release(bet("p", 400));
  exposure.reserve(bet("r", 25));
  const text = await metricsText();
  expect(text).toMatch(/^tap_exposure_open_bets(\{[^}]*\})? 2$/m);
  expect(text).toMatch(/^tap_exposure_open_stake_cents(\{[^}]*\})? 175$/m);
  expect(text).toMatch(new RegExp(`^tap_exposure_potential_payout_cents(\\{[^}]*\\})? ${exposure.houseLiabilityCents()}$`, "m"));
  expect(exposure.houseLiabilityCents()).toBe(350);
});
