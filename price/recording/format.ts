import type { BusTick } from "../../common/contracts/price.ts";
import type { IndexResult } from "../index/mod.ts";
import type { VenueName } from "../venues/protocol.ts";

/**
 * What the index was made with: the replay builds the same one.
 *
 * ```ts
 * const index: RecordedIndexConfig = { venues: ["coinbase", "kraken", "bitstamp", "bitfinex"], staleMs: 2000, maxDeviationBps: 50, minVenues: 2 };
 * ```
 */
export interface RecordedIndexConfig {
  venues: VenueName[];
  staleMs: number;
  maxDeviationBps: number;
  minVenues: number;
}

/**
 * One NDJSON line of a recording (docs/price-index.md, "Recording and replay").
 * Lines are written in the order the service handled them, and that order,
 * not their times, is what the replay follows.
 *
 * - `start`: the first line of every file: the run (its start time, ISO), the
 *   file's part number in that run (0 for the first), and the index's settings.
 * - `open`: a venue connection opened (Bitfinex's channel id lives per connection).
 * - `frame`: a raw text frame from a venue, with the time it was received (the
 *   `receivedAt` its adapter was given).
 * - `index`: the index computed at `at` (a tick's sample), with its result,
 *   quorum or not: each computation moves the exclusions, so each is replayed.
 * - `tick`: a published tick, `at` its grid slot (= `ts`).
 *
 * ```ts
 * const lines: RecordLine[] = [
 *   { t: "start", at: 1_767_225_600_000, run: "2026-01-01T00:00:00.000Z", part: 0, intervalMs: 1000, index },
 *   { t: "open", venue: "kraken", at: 1_767_225_600_050 },
 *   { t: "frame", venue: "kraken", at: 1_767_225_600_310, text: '{"channel":"heartbeat"}' },
 * ];
 * ```
 */
export type RecordLine =
  | { t: "start"; at: number; run: string; part: number; intervalMs: number; index: RecordedIndexConfig }
  | { t: "open"; venue: VenueName; at: number }
  | { t: "frame"; venue: VenueName; at: number; text: string }
  | { t: "index"; at: number; result: IndexResult }
  | ({ t: "tick"; at: number } & BusTick);
