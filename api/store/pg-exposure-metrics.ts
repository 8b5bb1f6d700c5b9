/**
 * The house's exposure on PostgreSQL, as Prometheus sees it: the same
 * `tap_exposure_*` gauges as the SQLite API's in-memory book
 * (api/bets/exposure.ts), read from the database, where every api node's
 * placements reserve (api/store/pg-exposure.ts). No node holds the figures in
 * memory there: the reservation is shared, so each node reports the same
 * house-wide figures.
 */
import { gaugeReading } from "../../common/metrics/registry.ts";
import type { PgSql } from "../../common/store/postgres.ts";
import { withTimeout } from "../../common/timeout.ts";

/**
 * The house's exposure as the database holds it, across every api node.
 *
 * ```ts
 * const figures: HouseExposure = { openBets: 3, openStakeCents: 600, potentialPayoutCents: 1410 };
 * ```
 */
export interface HouseExposure {
  /** Open bets: the reservation's count (`exposure_house.open_bets`). */
  openBets: number;
  /** Stakes of the open bets: the reservation's (`exposure_house.open_stake_cents`, migration 9). */
  openStakeCents: number;
  /** What the house would pay if every open bet won: the reservation (`exposure_house`). */
  potentialPayoutCents: number;
}

/**
 * Reads the house's exposure in one statement, so the three figures are of
 * one snapshot: the reservation's eight parts summed, eight rows however many
 * bets are open (summing the open bets' stakes from `bets` made a scrape take
 * 13–14 ms against SQLite's 4–5 ms with ~70,000 bets open in bench/bets.ts).
 *
 * ```ts
 * const { openBets, openStakeCents, potentialPayoutCents } = await readHouseExposure(sql);
 * ```
 */
export async function readHouseExposure(sql: PgSql): Promise<HouseExposure> {
  const [row] = await sql<{ open_bets: number; open_stake_cents: number; potential_payout_cents: number }[]>`
    SELECT coalesce(sum(open_bets), 0)::bigint AS open_bets, coalesce(sum(potential_payout_cents), 0)::bigint AS potential_payout_cents,
           coalesce(sum(open_stake_cents), 0)::bigint AS open_stake_cents
    FROM exposure_house`;
  return { openBets: row?.open_bets ?? 0, openStakeCents: row?.open_stake_cents ?? 0, potentialPayoutCents: row?.potential_payout_cents ?? 0 };
}

/**
 * How `pgExposureMetrics` reads: figures at most `maxAgeMs` old are served
 * again (one query a second however often, and by however many, it is
 * scraped); a read that takes longer than `timeoutMs` shows no series.
 *
 * ```ts
 * const options: PgExposureMetricsOptions = { maxAgeMs: 1000, timeoutMs: 2000 };
 * ```
 */
export interface PgExposureMetricsOptions {
  maxAgeMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Exports `tap_exposure_open_bets`, `tap_exposure_open_stake_cents` and
 * `tap_exposure_potential_payout_cents` from the database, read when
 * Prometheus scrapes (`readHouseExposure`, cached `maxAgeMs`). While the
 * database does not answer, the gauges have no series: a false 0 would say
 * the house risks nothing.
 *
 * ```ts
 * pgExposureMetrics(sql); // on every api node: each reports the same house-wide figures
 * ```
 */
export function pgExposureMetrics(sql: PgSql, { maxAgeMs = 1000, timeoutMs = 2000, now = Date.now }: PgExposureMetricsOptions = {}): void {
  let last: { at: number; figures: Promise<HouseExposure | undefined> } | undefined;
  // The three gauges of one scrape share one read (and so one snapshot).
  const figures = () => {
    if (!last || now() - last.at >= maxAgeMs) {
      last = { at: now(), figures: withTimeout(readHouseExposure(sql), timeoutMs, "exposure read").catch(() => undefined) };
    }
    return last.figures;
  };
  const gauge = (name: string, help: string, pick: (figures: HouseExposure) => number) =>
    gaugeReading({ name, help }, async (set) => {
      const read = await figures();
      if (read) set(pick(read));
    });
  const shared = "House-wide, from the database: every api node reports the same figure (aggregate with max, not sum).";
  gauge("tap_exposure_open_bets", `Open bets, those committed and not yet settled. ${shared}`, (read) => read.openBets);
  gauge("tap_exposure_open_stake_cents", `Stakes of the open bets, in cents. ${shared}`, (read) => read.openStakeCents);
  gauge("tap_exposure_potential_payout_cents", `What the house would pay if every open bet won, in cents (its liability; MAX_HOUSE_LIABILITY bounds it). ${shared}`, (read) => read.potentialPayoutCents);
}
