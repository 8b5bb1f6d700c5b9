import type { Database } from "bun:sqlite";
import type { BusTick } from "../../common/contracts/price.ts";

/**
 * A tick as settlement judged it, stored beside the bets.
 *
 * ```ts
 * const judged: JudgedTick = { tick: { symbol: "BTC-USD", price: 64_210.5, ts: 1_700_000_000_000 }, continuous: true };
 * ```
 */
export interface JudgedTick {
  tick: BusTick;
  /** False when a break lies between this tick and the one stored before it. */
  continuous: boolean;
}

interface Row {
  ts: number;
  seq: number | null;
  price: number;
  sig: string | null;
  continuous: number;
}

const judgedOf = (row: Row): JudgedTick => {
  const tick: BusTick = { symbol: "BTC-USD", price: row.price, ts: row.ts };
  if (row.seq !== null) tick.seq = row.seq;
  if (row.sig !== null) tick.sig = row.sig;
  return { tick, continuous: row.continuous === 1 };
};

/**
 * The ticks settlement judged bets on (the `ticks` table), in time order:
 * written in the same transaction as the settlements each caused, read back
 * at start to rebuild the settlement book and by the audit (api/replay.ts).
 *
 * ```ts
 * const log = createTickLog(db);
 * db.transaction(() => log.append({ tick, continuous: true }, Date.now()))();
 * log.last(); // the newest judged tick
 * ```
 */
export function createTickLog(db: Database) {
  const insert = db.prepare("INSERT INTO ticks (ts, seq, price, price_cents, sig, continuous, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  const newest = db.prepare("SELECT ts, seq, price, sig, continuous FROM ticks ORDER BY ts DESC LIMIT 1");
  const range = db.prepare("SELECT ts, seq, price, sig, continuous FROM ticks WHERE ts >= ?1 AND ts <= ?2 ORDER BY ts");
  return {
    /** Appends a judged tick; call it inside the transaction that writes what the tick decided. */
    append({ tick, continuous }: JudgedTick, receivedAt: number): void {
      insert.run(tick.ts, tick.seq ?? null, tick.price, Math.round(tick.price * 100), tick.sig ?? null, continuous ? 1 : 0, receivedAt);
    },
    /** The newest judged tick, to judge the next one's continuity across a restart. */
    last(): JudgedTick | undefined {
      const row = newest.get() as Row | null;
      return row ? judgedOf(row) : undefined;
    },
    /** Judged ticks with `from <= ts <= to`, oldest first. */
    range(from: number, to: number): JudgedTick[] {
      return (range.all(from, to) as Row[]).map(judgedOf);
    },
  };
}

