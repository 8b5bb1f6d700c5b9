/**
 * The settlement rules (docs/rules.md), kept apart from storage: an index of
 * open bets that, fed ticks in time order, says which bets each tick decides.
 *
 * - Won: a tick with t_start ≤ ts ≤ t_end has a price in [low, high]
 *   (inclusive), or two consecutive ticks inside the window lie on opposite
 *   sides of the band (the price passed through it).
 * - Lost: the window closed untouched, decided on the first tick after t_end,
 *   or at t_end + grace when no tick has come since.
 * - Void: the window closed untouched but was not fully observed: somewhere
 *   in it the last tick was more than `staleMs` old. Settlement never decides
 *   a loss on missing data.
 * - A tick not newer than the last one is ignored (and counted).
 *
 * Bets are grouped by window, then by band, so a tick touches only the
 * windows open at its time and the bands between it and the previous price:
 * never a scan of every open bet.
 */
export interface OpenBet {
  id: string;
  playerId: string;
  tStart: number;
  tEnd: number;
  lowCents: number;
  highCents: number;
  stakeCents: number;
  multiplierCenti: number;
}

export type Outcome = "won" | "lost" | "void";

export interface Decision {
  bet: OpenBet;
  outcome: Outcome;
  /** The time the decision rests on: the deciding tick's, or the clock's for a grace decision. */
  at: number;
}

interface Window {
  tStart: number;
  tEnd: number;
  /** Open bets by their band (`low:high` in cents). */
  bands: Map<string, OpenBet[]>;
  size: number;
  /** Some instant of the window lacked a fresh price. */
  unobserved: boolean;
}

export interface BookOptions {
  /** A price older than this does not count as observing the market. */
  staleMs: number;
  /** How long after t_end a window waits for a tick before it is decided by the clock. */
  graceMs: number;
}

export function createSettlementBook({ staleMs, graceMs }: BookOptions) {
  const windows = new Map<string, Window>();
  let openCount = 0;
  let lastTs: number | undefined;
  let lastPriceCents = 0;
  let ignoredTicks = 0;

  /** True when some instant of [from, to] is more than staleMs after the last tick before it. */
  const uncovered = (window: Window, gapFrom: number, gapTo: number) => gapFrom < gapTo && gapFrom <= window.tEnd && gapTo >= window.tStart;

  const closeWindow = (key: string, window: Window, outcome: "lost" | "void", at: number, decisions: Decision[]) => {
    for (const bets of window.bands.values()) {
      for (const bet of bets) decisions.push({ bet, outcome, at });
    }
    openCount -= window.size;
    windows.delete(key);
  };

  const winBands = (window: Window, fromCents: number, toCents: number, at: number, decisions: Decision[]) => {
    const lo = Math.min(fromCents, toCents);
    const hi = Math.max(fromCents, toCents);
    for (const [band, bets] of window.bands) {
      // Bands are few per window (the grid's rows); each overlapping one is touched.
      const first = bets[0];
      if (first && first.highCents >= lo && first.lowCents <= hi) {
        for (const bet of bets) decisions.push({ bet, outcome: "won", at });
        window.size -= bets.length;
        openCount -= bets.length;
        window.bands.delete(band);
      }
    }
  };

  return {
    /**
     * Adds an open bet. Each bet is added once: the settler loads the stored open bets at
     * start, then adds each newly committed one. (A set of ids to guard against a second
     * add cost ~3 % of the API's throughput at 20,000 bets/s; a bet decided twice would
     * still be settled once, by the store's status guard.)
     */
    add(bet: OpenBet): void {
      const key = `${bet.tStart}:${bet.tEnd}`;
      let window = windows.get(key);
      if (!window) {
        // Observation is judged tick by tick: each gap between ticks is checked against the window.
        window = { tStart: bet.tStart, tEnd: bet.tEnd, bands: new Map(), size: 0, unobserved: false };
        windows.set(key, window);
      }
      openCount++;
      const bandKey = `${bet.lowCents}:${bet.highCents}`;
      const band = window.bands.get(bandKey);
      if (band) band.push(bet);
      else window.bands.set(bandKey, [bet]);
      window.size++;
    },

    /** Feeds one tick; returns the bets it decides. */
    onTick(ts: number, priceCents: number): Decision[] {
      if (lastTs !== undefined && ts <= lastTs) {
        ignoredTicks++;
        return [];
      }
      const decisions: Decision[] = [];
      const prevTs = lastTs;
      const prevPrice = lastPriceCents;
      // The stretch since the previous tick that no fresh price covered.
      const gapFrom = prevTs === undefined ? Number.NEGATIVE_INFINITY : prevTs + staleMs;
      for (const [key, window] of windows) {
        if (uncovered(window, gapFrom, ts)) window.unobserved = true;
        if (ts > window.tEnd) {
          closeWindow(key, window, window.unobserved ? "void" : "lost", ts, decisions);
          continue;
        }
        if (ts < window.tStart) continue;
        const straddles = prevTs !== undefined && prevTs >= window.tStart;
        winBands(window, straddles ? prevPrice : priceCents, priceCents, ts, decisions);
        if (window.size === 0) windows.delete(key);
      }
      lastTs = ts;
      lastPriceCents = priceCents;
      return decisions;
    },

    /** Decides windows whose grace has passed with no tick since they closed. */
    onClock(now: number): Decision[] {
      const decisions: Decision[] = [];
      for (const [key, window] of windows) {
        if (now < window.tEnd + graceMs) continue;
        const gapFrom = lastTs === undefined ? Number.NEGATIVE_INFINITY : lastTs + staleMs;
        if (uncovered(window, gapFrom, now)) window.unobserved = true;
        closeWindow(key, window, window.unobserved ? "void" : "lost", now, decisions);
      }
      return decisions;
    },

    get openBets(): number {
      return openCount;
    },
    get ignoredTicks(): number {
      return ignoredTicks;
    },
    get lastTickTs(): number | undefined {
      return lastTs;
    },
  };
}

export type SettlementBook = ReturnType<typeof createSettlementBook>;
