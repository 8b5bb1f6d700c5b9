import type { Logger } from "../../common/log.ts";
import type { Settler } from "./settler.ts";
import type { OpenBet } from "./settlement-book.ts";
import type { JudgedTick } from "./tick-log.ts";

/** How often new bets are read by default: well inside any LOCK_MS / 2. */
const READ_EVERY_MS = 100;
/** Ticks held while reads fail; past this the process stops (crash-only) rather than grow. */
const MAX_HELD_TICKS = 10_000;

/**
 * Where the settler's book learns bets it did not place itself: each read
 * returns the bets stored since the last, and the clock by which every bet of
 * a window starting at most `lockMs / 2` later has been read (api/store/pg-open-bets.ts).
 *
 * ```ts
 * const source: BetSource = { read: () => reader.read() };
 * ```
 */
export interface BetSource {
  read(): Promise<{ bets: OpenBet[]; at: number }>;
}

/**
 * The settler of several api nodes: its book is fed by reads of the shared
 * store, and it judges nothing before the book holds every bet it concerns.
 * A tick at `ts` (and the clock at `at`) waits until a read's clock has
 * reached `ts − lockMs / 2`; the ticks that wait are judged in order once it
 * has. With reads every 100 ms and LOCK_MS of 500 ms or more, a live tick
 * waits for nothing.
 *
 * ```ts
 * const settler = readBetsFirst(createSettler(parts), { source, lockMs: config.lockMs, log, onFailed });
 * await settler.load(); // every open bet, once
 * settler.start();
 * ```
 */
export function readBetsFirst(
  settler: Settler,
  { source, lockMs, log, onFailed, everyMs = READ_EVERY_MS }: { source: BetSource; lockMs: number; log: Logger; onFailed: (error: unknown) => void; everyMs?: number },
) {
  let readAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;
  const held: JudgedTick[] = [];
  const ready = (ts: number) => readAt >= ts - lockMs / 2;

  const judgeHeld = () => {
    while (held.length > 0 && ready(held[0]!.tick.ts)) settler.onTick(held.shift()!);
  };
  const readOnce = async () => {
    const { bets, at } = await source.read();
    for (const bet of bets) settler.add(bet);
    // Never backwards: what an earlier read covered stays covered, whatever the clock of a later one.
    readAt = Math.max(readAt, at);
    judgeHeld();
  };
  const loop = async () => {
    if (stopped) return;
    try {
      await readOnce();
      failures = 0;
    } catch (error) {
      // The database away: ticks wait (and the clock decides nothing) until a read succeeds.
      if (failures++ % 50 === 0) log.warn({ err: (error as Error).message, held_ticks: held.length }, "could not read new bets: settlement waits");
    }
    if (!stopped) timer = setTimeout(loop, everyMs);
  };

  return {
    /** The first read: every open bet, into the book. */
    async load(): Promise<number> {
      const { bets, at } = await source.read();
      for (const bet of bets) settler.add(bet);
      readAt = at;
      return bets.length;
    },
    /** Reads new bets every `everyMs` until `stop`. */
    start(): void {
      stopped = false;
      timer = setTimeout(loop, everyMs);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
    },
    onTick(judged: JudgedTick): void {
      if (held.length === 0 && ready(judged.tick.ts)) return settler.onTick(judged);
      held.push(judged);
      if (held.length > MAX_HELD_TICKS) onFailed(new Error(`${held.length} ticks held while new bets could not be read`));
    },
    /** Ticks already stored, read back at start (after `load`): older than the first read, never held. */
    replay: (judged: JudgedTick) => settler.replay(judged),
    onClock(at: number): void {
      if (held.length === 0 && ready(at)) settler.onClock(at);
    },
    hasDue: (at: number) => settler.hasDue(at),
    stats: () => ({ ...settler.stats(), held_ticks: held.length }),
    settled: () => settler.settled(),
    add: (bet: OpenBet) => settler.add(bet),
  };
}
