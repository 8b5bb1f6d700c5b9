import { describe, expect, test } from "bun:test";
import { createMemoryBus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import { createLogger } from "../../common/log.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { waitFor } from "../../test/support/wait.ts";
import { createBetStore } from "../bets/bet-store.ts";
import { createMarket } from "../market/market.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { type JudgingOptions, startJudging } from "./judging.ts";
import { createSettleStore } from "./settle-store.ts";
import { createSettlementBook } from "./settlement-book.ts";
import { createSettler } from "./settler.ts";

const T = 1_800_000_000_000;
const STALE = 1000;
const tick = (seq: number, price = 42_000): BusTick => ({ symbol: "BTC-USD", price, ts: T + seq * 100, seq });

/** A database with one open bet on [T+1000, T+2000] × [42,100, 42,110], and the parts judging needs. */
function setUp(now: { value: number }) {
  const db = openTempStore();
  createPlayerStore(db).create("p1", 10_000, T);
  createBetStore(db).placeBatch([
    { id: "b1", playerId: "p1", stakeCents: 100, tStart: T + 1000, tEnd: T + 2000, lowCents: 4_210_000, highCents: 4_211_000, multiplierCenti: 300, createdAt: T, idempotencyKey: null },
  ]);
  const store = createSettleStore(db);
  const logger = createLogger({ component: "api", level: "silent" });
  const settler = createSettler({
    book: createSettlementBook({ staleMs: STALE, graceMs: 200, timeoutMs: 5000 }),
    store,
    exposure: { release() {} },
    events: { push() {} },
    log: logger,
    now: () => now.value,
  });
  settler.load();
  const stored: BusTick[] = [];
  const history = {
    async history(after: number, to: number, limit: number) {
      return stored.filter((t) => t.ts > after && t.ts <= to).slice(0, limit).map((t) => JSON.stringify(t));
    },
  };
  const status = () => (db.query("SELECT status FROM bets WHERE id = 'b1'").get() as { status: string }).status;
  const bus = createMemoryBus();
  /** Starts judging over these parts; a failed write throws unless `onWriteFailed` says otherwise. */
  const start = (options: Partial<Pick<JudgingOptions, "onWriteFailed" | "clockMs">> = {}) =>
    startJudging({
      store,
      settler,
      market: createMarket({ sigmaFloor: 0.0001, staleMs: STALE }),
      bus,
      history,
      bounds: { maxSkewMs: 1000, maxJump: 0.01, staleMs: STALE },
      logger,
      onWriteFailed: (error) => {
        throw error;
      },
      now: () => now.value,
      ...options,
    });
  return { db, store, stored, bus, start, status };
}

describe("judging", () => {
  test("at start, the judged ticks rebuild what the book knew, and the ticks missed while down follow them: an observed window is lost, not void", async () => {
    const now = { value: T + 1500 };
    const { db, store, stored, bus, start, status } = setUp(now);
    // Judged before the restart, every 500 ms: the window is observed up to T+1500.
    db.transaction(() => {
      for (const seq of [0, 5, 10, 15]) store.ticks.append({ tick: tick(seq), continuous: seq > 0 }, T);
    })();
    // Stored by the price service while the API was down.
    for (let seq = 16; seq <= 20; seq++) stored.push(tick(seq));
    const judging = await start();
    await judging.feed.ready;
    now.value = T + 2500;
    await bus.publish(Channels.priceTicks, JSON.stringify(tick(21)));
    await waitFor("the window decided", () => status() !== "open");
    // Without the rebuild the first tick after the restart would have nothing before it: void.
    expect(status()).toBe("lost");
    expect(store.ticks.range(T + 1500, T + 2100).map((t) => [t.tick.seq, t.continuous])).toEqual([15, 16, 17, 18, 19, 20, 21].map((seq) => [seq, true]));
    await judging.stop();
    db[Symbol.dispose]();
  });

  test("the clock decides nothing on silence before it has read the history: a touch it only finds there wins", async () => {
    const now = { value: T + 500 };
    const { db, store, stored, bus, start, status } = setUp(now);
    const judging = await start({ clockMs: 10 });
    await judging.feed.ready;
    stored.push(tick(5));
    await bus.publish(Channels.priceTicks, JSON.stringify(tick(5)));
    await waitFor("the first tick judged", () => store.ticks.last()?.tick.seq === 5);
    // Published while the subscriber was away: only the history has them.
    stored.push(tick(10), tick(15, 42_105), tick(20));
    now.value = T + 2500; // past t_end + grace, no tick heard since 5
    await waitFor("the window decided", () => status() !== "open");
    expect(status()).toBe("won");
    expect(store.ticks.range(T, T + 3000).map((t) => t.tick.seq)).toEqual([5, 10, 15, 20]);
    await judging.stop();
    db[Symbol.dispose]();
  });

  test("a tick whose settlement cannot be written stops the process (crash-only), never skips it", async () => {
    const now = { value: T + 500 };
    const { db, bus, start } = setUp(now);
    const failures: unknown[] = [];
    const judging = await start({ onWriteFailed: (error) => void failures.push(error) });
    await judging.feed.ready;
    db.exec("DROP TABLE ticks");
    await bus.publish(Channels.priceTicks, JSON.stringify(tick(5)));
    await waitFor("the failure reported", () => failures.length === 1);
    expect(String(failures[0])).toContain("ticks");
    await judging.stop();
    db[Symbol.dispose]();
  });
});
