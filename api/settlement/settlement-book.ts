/**
 * An open bet as the book holds it: money in cents, the multiplier in hundredths.
 *
 * ```ts
 * const bet: OpenBet = { id: "b1", playerId: "p1", tStart: 1_700_000_005_000, tEnd: 1_700_000_010_000, lowCents: 4_201_000, highCents: 4_202_000, stakeCents: 500, multiplierCenti: 235 };
 * ```
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

type Outcome = "won" | "lost" | "void";

/**
 * What the book decided for one bet, and when.
 *
 * ```ts
 * const decision: Decision = { bet, outcome: "won", at: 1_700_000_007_250 };
 * ```
 */
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

/**
 * The settlement settings of docs/rules.md, in ms.
 *
 * ```ts
 * const options: BookOptions = { staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 };
 * ```
 */
export interface BookOptions {
  /** A price older than this does not count as observing the market. */
  staleMs: number;
  /** How long after t_end the clock waits for a tick before it voids a window it already knows to be unobserved. */
  graceMs: number;
  /** A window with no tick within this long after t_end is void (decided by the clock `graceMs` later). */
  timeoutMs: number;
}

/**
 * The settlement rules (docs/rules.md), kept apart from storage: an index of
 * open bets that, fed ticks in time order, says which bets each tick decides.
 *
 * - Won: a tick with t_start ≤ ts ≤ t_end has a price in [low, high]
 *   (inclusive), or two consecutive ticks inside the window, with no break
 *   between them, lie on opposite sides of the band (the price passed through it).
 * - Lost: the window closed untouched and fully observed, decided on the
 *   first tick after t_end (at most `timeoutMs` after it).
 * - Void: the window closed untouched but was not fully observed: at some
 *   instant of it the last tick was more than `staleMs` old, or a break lay
 *   over it; or no tick came within `timeoutMs` of t_end. Settlement never
 *   decides a loss on missing data.
 * - A tick not newer than the last one is ignored (and counted).
 *
 * The feed says whether each tick continues the one before (api/market/): a
 * tick that does not follows a *break*, a stretch of which nothing is known.
 *
 * Bets are grouped by window, then by band, so a tick touches only the
 * windows open at its time and the bands between it and the previous price:
 * never a scan of every open bet.
 *
 * ```ts
 * const book = createSettlementBook({ staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 });
 * book.add(bet);
 * const decisions = book.onTick(tick.ts, Math.round(tick.price * 100), continuous); // [{ bet, outcome: "won", at }]
 * ```
 */
export function createSettlementBook({ staleMs, graceMs, timeoutMs }: BookOptions) {
  const windows = new Map<string, Window>();
  let openCount = 0;
  let lastTs: number | undefined;
  let lastPriceCents = 0;
  let ignoredTicks = 0;

  /**
   * True when the unobserved stretch, the open interval (gapFrom, gapTo), overlaps the
   * window [tStart, tEnd]. Open: at gapFrom the last price is exactly staleMs old, and
   * at gapTo a new tick is seen, so both ends are observed (docs/rules.md).
   */
  const uncovered = (window: Window, gapFrom: number, gapTo: number) => gapFrom < gapTo && gapFrom < window.tEnd && gapTo > window.tStart;

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

    /**
     * Feeds one tick; returns the bets it decides. `continuous` is false when a
     * break lies between this tick and the previous one (the first tick is one).
     */
    onTick(ts: number, priceCents: number, continuous = true): Decision[] {
      if (lastTs !== undefined && ts <= lastTs) {
        ignoredTicks++;
        return [];
      }
      const decisions: Decision[] = [];
      const prevTs = continuous ? lastTs : undefined;
      const prevPrice = lastPriceCents;
      // The stretch since the previous tick that no fresh price covered: after a break, all of it.
      const gapFrom = lastTs === undefined ? Number.NEGATIVE_INFINITY : continuous ? lastTs + staleMs : lastTs;
      for (const [key, window] of windows) {
        if (uncovered(window, gapFrom, ts)) window.unobserved = true;
        if (ts > window.tEnd) {
          const observed = !window.unobserved && ts <= window.tEnd + timeoutMs;
          closeWindow(key, window, observed ? "lost" : "void", ts, decisions);
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

    /**
     * Decides windows that no tick closed, once the caller knows every tick up to
     * `now` has been fed (the history was read): after the grace, a window
     * already known to be unobserved is void; an observed one waits for the next
     * tick (which says whether anything was missed) until `timeoutMs` + grace
     * after it closed, and is then void. Never lost: a loss needs the next tick.
     */
    onClock(now: number): Decision[] {
      const decisions: Decision[] = [];
      // No tick since the last one: the stretch after it is unobserved from lastTs + staleMs on.
      const gapFrom = lastTs === undefined ? Number.NEGATIVE_INFINITY : lastTs + staleMs;
      for (const [key, window] of windows) {
        if (now < window.tEnd + graceMs) continue;
        if (uncovered(window, gapFrom, now)) window.unobserved = true;
        if (window.unobserved || now >= window.tEnd + timeoutMs + graceMs) closeWindow(key, window, "void", now, decisions);
      }
      return decisions;
    },

    /** True when some window's grace has passed with no tick to close it: the clock has work. */
    hasDue(now: number): boolean {
      for (const window of windows.values()) if (now >= window.tEnd + graceMs) return true;
      return false;
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

/**
 * The settlement book (see `createSettlementBook`).
 *
 * ```ts
 * const book: SettlementBook = createSettlementBook({ staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 });
 * ```
 */
export type SettlementBook = ReturnType<typeof createSettlementBook>;
