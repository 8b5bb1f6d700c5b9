import { gaugeReading } from "../../common/metrics/registry.ts";
import { potentialPayoutCents } from "./bet-store.ts";

/**
 * The limits on open bets (MAX_OPEN_BETS, MAX_CELL_LIABILITY, MAX_HOUSE_LIABILITY).
 *
 * ```ts
 * const limits: ExposureLimits = { maxOpenBets: 100, maxCellLiabilityCents: 5_000_000, maxHouseLiabilityCents: 100_000_000 };
 * ```
 */
export interface ExposureLimits {
  maxOpenBets: number;
  maxCellLiabilityCents: number;
  maxHouseLiabilityCents: number;
}

/**
 * The parts of a bet that count against the limits.
 *
 * ```ts
 * const entry: ExposureEntry = { playerId: "p1", tStart: 1_700_000_005_000, lowCents: 4_201_000, stakeCents: 500, multiplierCenti: 235 };
 * ```
 */
export interface ExposureEntry {
  playerId: string;
  tStart: number;
  lowCents: number;
  stakeCents: number;
  multiplierCenti: number;
}

/**
 * What the house stands to pay on open bets, kept in memory by the process
 * that owns the writes: open bets per player, potential payout per cell and in
 * total. A bet reserves its share before it is written (so bets in flight
 * count too) and releases it when refused or settled. The house's figures
 * (open bets, open stake, potential payout) are read from here at scrape time
 * (`tap_exposure_*`, docs/metrics.md).
 *
 * ```ts
 * const exposure = createExposure({ maxOpenBets: 100, maxCellLiabilityCents: 5_000_000, maxHouseLiabilityCents: 100_000_000 });
 * exposure.loadOpen(await store.settlement.openBets());
 * const reserved = exposure.reserve(entry); // { ok: true } or { ok: false, limit: "max_cell_liability" }
 * ```
 */
export function createExposure(limits: ExposureLimits) {
  const openByPlayer = new Map<string, number>();
  // By window start, then band: numbers all the way, no key string per bet (a closing window releases thousands).
  const liabilityByCell = new Map<number, Map<number, number>>();
  let house = 0;
  // Totals over every player and cell, for the metrics: two additions per bet.
  let openBets = 0;
  let openStake = 0;
  gaugeReading({ name: "tap_exposure_open_bets", help: "Open bets, those in flight to the database included." }, (set) => set(openBets));
  gaugeReading({ name: "tap_exposure_open_stake_cents", help: "Stakes of the open bets, in cents." }, (set) => set(openStake));
  gaugeReading({ name: "tap_exposure_potential_payout_cents", help: "What the house would pay if every open bet won, in cents (its liability; MAX_HOUSE_LIABILITY bounds it)." }, (set) => set(house));

  const cellLiability = (entry: ExposureEntry) => liabilityByCell.get(entry.tStart)?.get(entry.lowCents) ?? 0;
  const add = (entry: ExposureEntry, sign: 1 | -1) => {
    const payout = sign * potentialPayoutCents(entry.stakeCents, entry.multiplierCenti);
    const open = (openByPlayer.get(entry.playerId) ?? 0) + sign;
    if (open > 0) openByPlayer.set(entry.playerId, open);
    else openByPlayer.delete(entry.playerId);
    let column = liabilityByCell.get(entry.tStart);
    if (!column) {
      column = new Map();
      liabilityByCell.set(entry.tStart, column);
    }
    const cell = (column.get(entry.lowCents) ?? 0) + payout;
    if (cell > 0) column.set(entry.lowCents, cell);
    else {
      column.delete(entry.lowCents);
      if (column.size === 0) liabilityByCell.delete(entry.tStart);
    }
    house += payout;
    openBets += sign;
    openStake += sign * entry.stakeCents;
  };

  return {
    /** Reserves the bet's share, or names the limit it would break. */
    reserve(entry: ExposureEntry): { ok: true } | { ok: false; limit: "max_open_bets" | "max_cell_liability" | "max_house_liability" } {
      const payout = potentialPayoutCents(entry.stakeCents, entry.multiplierCenti);
      if ((openByPlayer.get(entry.playerId) ?? 0) + 1 > limits.maxOpenBets) return { ok: false, limit: "max_open_bets" };
      // Written as "not within" so a figure that is not a number (a bug upstream) is refused, never let through
      // to poison the totals and switch the limits off.
      if (!(cellLiability(entry) + payout <= limits.maxCellLiabilityCents)) return { ok: false, limit: "max_cell_liability" };
      if (!(house + payout <= limits.maxHouseLiabilityCents)) return { ok: false, limit: "max_house_liability" };
      add(entry, 1);
      return { ok: true };
    },
    /** Gives back a bet's share: it was refused, or it is settled. */
    release(entry: ExposureEntry): void {
      add(entry, -1);
    },
    /** Rebuilds the picture from the open bets on disk (at start). */
    /** The open bets already stored (at start): each holds its share again. */
    loadOpen(open: readonly ExposureEntry[]): number {
      for (const entry of open) add(entry, 1);
      return open.length;
    },
    houseLiabilityCents: () => house,
    openBets: (playerId: string) => openByPlayer.get(playerId) ?? 0,
  };
}

/**
 * The exposure book (see `createExposure`).
 *
 * ```ts
 * const exposure: Exposure = createExposure(limits);
 * ```
 */
export type Exposure = ReturnType<typeof createExposure>;
