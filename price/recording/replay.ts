import { type CompositeIndex, createCompositeIndex, type IndexResult } from "../index/mod.ts";
import { protocolFor } from "../venues/mod.ts";
import { type VenueName, type VenueProtocol, venueNames } from "../venues/protocol.ts";
import type { RecordLine } from "./format.ts";

/**
 * A tick as the replay rebuilt it, beside the recorded one.
 *
 * ```ts
 * const tick: ReplayedTick = {
 *   t: "tick", symbol: "BTC-USD", ts: 1_767_225_601_000, seq: 52_115, price: 87_415.25, venues: 3, dispersion_bps: 1.37,
 *   same: true, recorded: { price: 87_415.25, venues: 3, dispersion_bps: 1.37 },
 * };
 * ```
 */
export interface ReplayedTick {
  t: "tick";
  symbol: string;
  ts: number;
  seq: number | undefined;
  /** Rebuilt from the frames; undefined when the index had no quorum (or was never computed). */
  price: number | undefined;
  venues: number | undefined;
  dispersion_bps: number | undefined;
  /** Price, venues and dispersion_bps all equal the recorded tick's. */
  same: boolean;
  recorded: { price: number; venues: number | undefined; dispersion_bps: number | undefined };
}

/**
 * What a whole replay found: counts of what it replayed and of what differs.
 *
 * ```ts
 * const summary: ReplaySummary = { t: "summary", frames: 4210, opens: 4, computes: 60, computes_differ: 0, ticks: 60, ticks_differ: 0, identical: true };
 * ```
 */
export interface ReplaySummary {
  t: "summary";
  frames: number;
  opens: number;
  /** Index computations replayed, and those whose result differs from the recorded one. */
  computes: number;
  computes_differ: number;
  ticks: number;
  ticks_differ: number;
  /** Every tick and every computation rebuilt exactly. */
  identical: boolean;
}

/**
 * A line or file that is not part of a recording (`price replay` exits 2 on it).
 *
 * ```ts
 * parseRecordLine("{}"); // throws RecordingError: unknown line type undefined
 * ```
 */
export class RecordingError extends Error {
  override name = "RecordingError";
}

/**
 * Rebuilds the ticks of a recording (./format.ts) by replaying it in the
 * order it was written: each frame is parsed by its venue's adapter at its
 * recorded time and its quotes observed, each `open` starts a fresh protocol
 * for that venue (Bitfinex's channel id is per connection), each `index` line
 * computes the index at its recorded time, and each `tick` is compared with
 * the computation made before it. A `start` line of a new run starts over.
 *
 * ```ts
 * const replay = createReplay();
 * for (const line of lines) for (const tick of replay.feed(line)) console.log(tick);
 * replay.summary(); // { identical: true, ticks: 12, ... }
 * ```
 */
export function createReplay(): { feed(line: RecordLine): ReplayedTick[]; summary(): ReplaySummary } {
  let run: string | undefined;
  let index: CompositeIndex | undefined;
  let protocols = new Map<VenueName, VenueProtocol>();
  let computed: IndexResult | undefined;
  const summary: ReplaySummary = { t: "summary", frames: 0, opens: 0, computes: 0, computes_differ: 0, ticks: 0, ticks_differ: 0, identical: true };

  const needIndex = (line: RecordLine): CompositeIndex => {
    if (!index) throw new RecordingError(`a ${line.t} line before any start line`);
    return index;
  };

  return {
    feed(line) {
      switch (line.t) {
        case "start":
          if (line.run !== run) {
            run = line.run;
            index = createCompositeIndex({ ...line.index, now: () => line.at });
            protocols = new Map();
            computed = undefined;
          }
          return [];
        case "open":
          needIndex(line);
          summary.opens++;
          protocols.set(line.venue, protocolFor(line.venue));
          return [];
        case "frame": {
          const target = needIndex(line);
          summary.frames++;
          let protocol = protocols.get(line.venue);
          if (!protocol) protocols.set(line.venue, (protocol = protocolFor(line.venue)));
          // As connectVenue does: quotes are observed in order until the frame asks for a reconnect or refuses.
          for (const event of protocol.parse(line.text, line.at)) {
            if (event.kind === "quote") target.observe(event.quote);
            if (event.kind === "reconnect" || event.kind === "refused") break;
          }
          return [];
        }
        case "index": {
          computed = needIndex(line).compute(line.at);
          summary.computes++;
          if (JSON.stringify(computed) !== JSON.stringify(line.result)) {
            summary.computes_differ++;
            summary.identical = false;
          }
          return [];
        }
        case "tick": {
          needIndex(line);
          summary.ticks++;
          const rebuilt = computed?.price === undefined ? undefined : computed;
          const tick: ReplayedTick = {
            t: "tick",
            symbol: line.symbol,
            ts: line.ts,
            seq: line.seq,
            price: rebuilt?.price,
            venues: rebuilt?.venues,
            dispersion_bps: rebuilt?.dispersion_bps,
            same: false,
            recorded: { price: line.price, venues: line.venues, dispersion_bps: line.dispersion_bps },
          };
          tick.same = tick.price === line.price && tick.venues === line.venues && tick.dispersion_bps === line.dispersion_bps;
          if (!tick.same) {
            summary.ticks_differ++;
            summary.identical = false;
          }
          // A tick is made from one computation: the next tick needs its own.
          computed = undefined;
          return [tick];
        }
        default: {
          const unknown: never = line;
          throw new RecordingError(`unknown line ${JSON.stringify(unknown).slice(0, 120)}`);
        }
      }
    },
    summary: () => ({ ...summary }),
  };
}

/**
 * Reads one line of a recording, checking only what the replay relies on;
 * throws a `RecordingError` for anything else.
 *
 * ```ts
 * parseRecordLine('{"t":"open","venue":"kraken","at":1767225600000}'); // { t: "open", venue: "kraken", at: 1767225600000 }
 * ```
 */
export function parseRecordLine(text: string): RecordLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    throw new RecordingError(`not JSON: ${text.slice(0, 120)}`);
  }
  if (typeof line !== "object" || line === null || Array.isArray(line)) throw new RecordingError(`not an object: ${text.slice(0, 120)}`);
  const record = line as Record<string, unknown>;
  if (!["start", "open", "frame", "index", "tick"].includes(record.t as string)) throw new RecordingError(`unknown line type ${JSON.stringify(record.t)}`);
  if (typeof record.at !== "number" || !Number.isFinite(record.at)) throw new RecordingError(`a ${String(record.t)} line without a numeric at`);
  if ((record.t === "open" || record.t === "frame") && !(venueNames as readonly unknown[]).includes(record.venue)) {
    throw new RecordingError(`a ${record.t} line of an unknown venue ${JSON.stringify(record.venue)}`);
  }
  if (record.t === "frame" && typeof record.text !== "string") throw new RecordingError("a frame line without its text");
  return record as unknown as RecordLine;
}
