import pino, { type DestinationStream } from "pino";
import { createLogLine } from "../../common/log-line.ts";
import { jsonString, type Logger } from "../../common/log.ts";
import { counter, histogram } from "../../common/metrics/registry.ts";
import type { Exposure } from "../bets/exposure.ts";
import type { BetEventPublisher } from "./event-publisher.ts";
import { settledEnvelope } from "./events.ts";
import { type Settled, type SettlementStore, windowKey } from "./settle-store.ts";
import type { Decision, OpenBet, SettlementBook } from "./settlement-book.ts";
import type { JudgedTick } from "./tick-log.ts";

/**
 * What the settler works with; `events` hears every settled bet.
 *
 * ```ts
 * const parts: SettlerParts = { book, store: createSettleStore(db), exposure, events, log };
 * ```
 */
export interface SettlerParts {
  book: SettlementBook;
  store: Pick<SettlementStore, "settle" | "openBets">;
  /**
   * Told when a write failed: the book has moved on without the database, so the
   * process must stop and rebuild both from it (api/main.ts exits). An
   * asynchronous store's failure arrives here; a synchronous one's also throws.
   */
  onWriteFailed?: (error: unknown) => void;
  exposure: Pick<Exposure, "release">;
  events: BetEventPublisher;
  log: Logger;
  now?: () => number;
  /**
   * A synchronous store's decisions are written at most this many to a
   * transaction (a closing window's lost bets too, over several), the event loop
   * turning between, so that requests are not held behind one long write.
   * Unset: one transaction, however many.
   */
  writeChunk?: number;
}

/**
 * The decisions a synchronous store writes per transaction on the API (see
 * `SettlerParts.writeChunk`): a window closing on thousands of bets held the
 * API's one thread up to 110 ms in one write at 5,000 players
 * (bench/capacity.ts), and every bet answer with it.
 *
 * ```ts
 * createSettler({ book, store, exposure, events, log, writeChunk: SETTLE_WRITE_CHUNK });
 * ```
 */
export const SETTLE_WRITE_CHUNK = 250;

/**
 * One transaction's share of a settlement written in runs: its decisions, and
 * the windows (`tStart:tEnd`) whose lost bets go on in a later run.
 *
 * ```ts
 * const run: SettlementRun = { decisions, continuing: new Set(["1700000005000:1700000010000"]) };
 * ```
 */
export interface SettlementRun {
  decisions: Decision[];
  continuing: Set<string>;
}

/**
 * `decisions` cut into runs of at most `size`, in order; each run names the
 * windows whose lost bets it does not finish (the store checks a window's
 * losses against the database in the run that finishes them).
 *
 * ```ts
 * chunkDecisions(decisions, 250); // [{ decisions: […250], continuing: Set {"…:…"} }, …]
 * ```
 */
export function chunkDecisions(decisions: readonly Decision[], size: number): SettlementRun[] {
  const lastRunOf = new Map<string, number>();
  decisions.forEach((decision, i) => {
    if (decision.outcome === "lost") lastRunOf.set(windowKey(decision.bet), Math.floor(i / size));
  });
  const runs: SettlementRun[] = [];
  for (let from = 0; from < decisions.length; from += size) {
    const run = decisions.slice(from, from + size);
    const index = runs.length;
    const continuing = new Set(run.flatMap(({ bet, outcome }) => (outcome === "lost" && lastRunOf.get(windowKey(bet))! > index ? [windowKey(bet)] : [])));
    runs.push({ decisions: run, continuing });
  }
  return runs;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs settlement in the process that owns the database's writes: every tick
 * (and a clock, for windows no tick closes) goes through the book; what it
 * decides is written in one transaction with the tick itself, the bets'
 * limits are released, and each player is told over the bus. Each settled
 * bet is one info line ("bet settled": bet, player, outcome, payout), so the
 * journal alone tells what became of a bet, and is counted in the metrics
 * (docs/metrics.md): settled bets by outcome, payouts, and the settlement lag
 * (bets accepted are counted where they are placed: api/lifecycle/accepted-metrics.ts).
 *
 * ```ts
 * const settler = createSettler({ book, store, exposure, events, log });
 * settler.load(); // the open bets on disk, once
 * settler.onTick({ tick, continuous: true });
 * ```
 */
export function createSettler({ book, store, exposure, events, log, now = Date.now, onWriteFailed, writeChunk }: SettlerParts) {
  let settledTotal = 0;
  let loaded = false;
  const metrics = settlementMetrics();
  const logSettled = settledLine(log);
  // An asynchronous store's writes, one at a time and in the order the book decided them.
  let writing: Promise<void> | undefined;
  const written = (decisions: readonly Decision[], settled: Settled[], at: number) => {
    for (const { bet } of decisions) exposure.release(bet);
    settledTotal += settled.length;
    for (const one of settled) {
      events.push(settledEnvelope(one));
      logSettled(one);
    }
    if (settled.length > 0) observeSettled(metrics, decisions, settled, at);
  };
  const writeOne = (decisions: Decision[], judged?: JudgedTick, continuing?: ReadonlySet<string>): void | Promise<void> => {
    const at = now();
    const result = store.settle(decisions, at, judged, continuing);
    if (!(result instanceof Promise)) return written(decisions, result, at);
    return result.then((settled) => written(decisions, settled, at));
  };
  const write = (decisions: Decision[], judged?: JudgedTick): void | Promise<void> => {
    if (writeChunk === undefined || decisions.length <= writeChunk) return writeOne(decisions, judged);
    // The tick goes with the first run. A crash between runs leaves the rest open, decided again when the
    // restart replays the stored ticks, as after a crash between two ticks.
    const [first, ...rest] = chunkDecisions(decisions, writeChunk);
    const started = writeOne(first!.decisions, judged, first!.continuing);
    return (async () => {
      await started;
      for (const run of rest) {
        await nextTurn();
        await writeOne(run.decisions, undefined, run.continuing);
      }
    })();
  };
  const apply = (decisions: Decision[], judged?: JudgedTick) => {
    if (decisions.length === 0 && !judged) return;
    if (!writing) {
      const pending = write(decisions, judged);
      if (!pending) return;
      writing = pending;
    } else {
      writing = writing.then(() => write(decisions, judged));
    }
    const mine = writing.then(
      () => {
        if (writing === mine) writing = undefined;
      },
      (error: unknown) => {
        if (writing === mine) writing = undefined;
        onWriteFailed?.(error);
        throw error;
      },
    );
    writing = mine;
    mine.catch(() => {});
  };
  return {
    /** Loads the open bets from the database: once, at start, before the history replay. */
    load(): number | Promise<number> {
      // The book takes each bet once; a second load would add them all again.
      if (loaded) throw new Error("the settler's open bets are loaded once, at start");
      loaded = true;
      const addAll = (open: OpenBet[]) => {
        for (const bet of open) book.add(bet);
        return open.length;
      };
      const open = store.openBets();
      return open instanceof Promise ? open.then(addAll) : addAll(open);
    },
    /** Resolves once every write begun so far is done (at shutdown, and in tests). */
    async settled(): Promise<void> {
      while (writing) await writing.catch(() => {});
    },
    /** A newly placed bet joins the book. */
    add(bet: OpenBet): void {
      book.add(bet);
    },
    /** A judged tick from the feed: stored with what it decides. */
    onTick(judged: JudgedTick): void {
      apply(book.onTick(judged.tick.ts, Math.round(judged.tick.price * 100), judged.continuous), judged);
    },
    /**
     * A tick already stored (read back at start): fed to the book to rebuild what
     * it knew (which windows went unobserved); anything it decides is written,
     * which the store makes a no-op for bets already settled.
     */
    replay(judged: JudgedTick): void {
      apply(book.onTick(judged.tick.ts, Math.round(judged.tick.price * 100), judged.continuous));
    },
    /** Decides windows no tick closed; call it only once every tick stored up to `at` has been fed. */
    onClock(at: number = now()): void {
      apply(book.onClock(at));
    },
    /** True when the clock has windows to look at (see `onClock`). */
    hasDue: (at: number) => book.hasDue(at),
    stats: () => ({ open_bets: book.openBets, settled: settledTotal, ticks_ignored: book.ignoredTicks }),
  };
}

/**
 * The settler (see `createSettler`).
 *
 * ```ts
 * const settler: Settler = createSettler({ book, store, exposure, events, log });
 * ```
 */
export type Settler = ReturnType<typeof createSettler>;

/**
 * Each settled bet's info line ("bet settled": bet, player, outcome, payout),
 * built by hand into the logger's own sink (common/log-line.ts) in pino's
 * shape: a closing window settles thousands of bets at once, and pino's
 * serialiser costs four times as much a line. Through `log.info` when the
 * logger has no plain sink.
 */
function settledLine(log: Logger): (one: Settled) => void {
  if (!log.isLevelEnabled("info")) return () => {};
  const sink = (log as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  if (!sink || typeof sink.write !== "function") {
    return (one) => log.info({ bet_id: one.betId, player_id: one.playerId, outcome: one.outcome, payout_cents: one.payoutCents }, "bet settled");
  }
  const line = createLogLine(sink, { component: String(log.bindings().component ?? "api"), msg: "bet settled" });
  return (one) => line(`"bet_id":${jsonString(one.betId)},"player_id":${jsonString(one.playerId)},"outcome":"${one.outcome}","payout_cents":${one.payoutCents}`);
}

/**
 * The metrics of one settlement transaction, a handful of operations however
 * many bets it settled: bets by outcome, payouts, refunds, and the lag of its
 * longest-waiting bet of each outcome. A bet the database had already settled
 * (a replay at start) is in `decisions` but not in `settled`.
 */
function observeSettled(metrics: SettlementMetrics, decisions: readonly Decision[], settled: readonly Settled[], at: number): void {
  const ids = settled.length === decisions.length ? undefined : new Set(settled.map((one) => one.betId));
  const counts = { won: 0, lost: 0, void: 0 };
  // A win is decided by its touching tick, before the window ends; a loss or a void once it has ended.
  const firstDecided = { won: Infinity, lost: Infinity, void: Infinity };
  let refunds = 0;
  for (const { bet, outcome, at: decidedAt } of decisions) {
    if (ids && !ids.has(bet.id)) continue;
    counts[outcome]++;
    firstDecided[outcome] = Math.min(firstDecided[outcome], bet.tEnd, decidedAt);
    if (outcome === "void") refunds += bet.stakeCents;
  }
  for (const outcome of ["won", "lost", "void"] as const) {
    if (counts[outcome] === 0) continue;
    metrics.settled[outcome].inc(counts[outcome]);
    metrics.lag[outcome].observe(Math.max(0, at - firstDecided[outcome]) / 1000);
  }
  let payouts = 0;
  for (const one of settled) payouts += one.payoutCents;
  if (payouts > 0) metrics.payouts.inc(payouts);
  if (refunds > 0) metrics.refunds.inc(refunds);
}

type SettlementMetrics = ReturnType<typeof settlementMetrics>;

/** The settlement's metrics, made once per process; a labelled series each, looked up once here rather than per bet. */
function settlementMetrics() {
  const settled = counter<"outcome">({ name: "tap_bets_settled_total", help: "Bets settled, by outcome (won, lost, void).", labelNames: ["outcome"] });
  const lag = histogram<"outcome">({
    name: "tap_settlement_lag_seconds",
    help: "Per settlement transaction and outcome: from the moment its longest-waiting bet was decided (its window's end, or the touching tick for a win) to the commit, in seconds; void bets wait for the settlement timeout by design.",
    labelNames: ["outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  });
  return {
    settled: { won: settled.labels({ outcome: "won" }), lost: settled.labels({ outcome: "lost" }), void: settled.labels({ outcome: "void" }) },
    lag: { won: lag.labels({ outcome: "won" }), lost: lag.labels({ outcome: "lost" }), void: lag.labels({ outcome: "void" }) },
    payouts: counter({ name: "tap_payouts_cents_total", help: "Paid to players for won bets, in cents." }),
    refunds: counter({ name: "tap_refunds_cents_total", help: "Stakes given back for void bets, in cents." }),
  };
}
