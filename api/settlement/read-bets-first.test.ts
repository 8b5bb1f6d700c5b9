import { expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import { readBetsFirst } from "./read-bets-first.ts";
import type { Settler } from "./settler.ts";
import type { OpenBet } from "./settlement-book.ts";
import type { JudgedTick } from "./tick-log.ts";

const T = 1_800_000_000_000;
const LOCK_MS = 500;
const log = createLogger({ component: "api", level: "silent" });
const judged = (ts: number): JudgedTick => ({ tick: { symbol: "BTC-USD", price: 42_000, ts, seq: ts } as BusTick, continuous: true });
const bet = (id: string): OpenBet => ({ id, playerId: "p1", tStart: T + 1000, tEnd: T + 2000, lowCents: 4_200_000, highCents: 4_201_000, stakeCents: 100, multiplierCenti: 250 });

/** A settler that records what reaches it, in order, and a source whose reads the test answers. */
function setUp() {
  const seen: string[] = [];
  const settler = {
    add: (b: OpenBet) => void seen.push(`add ${b.id}`),
    onTick: (j: JudgedTick) => void seen.push(`tick ${j.tick.ts - T}`),
    replay: (j: JudgedTick) => void seen.push(`replay ${j.tick.ts - T}`),
    onClock: (at: number) => void seen.push(`clock ${at - T}`),
    hasDue: () => true,
    stats: () => ({ open_bets: 0, settled: 0, ticks_ignored: 0 }),
    settled: async () => {},
  } as unknown as Settler;
  const reads: { bets: OpenBet[]; at: number }[] = [];
  const source = { read: async () => reads.shift() ?? { bets: [], at: T } };
  const failures: unknown[] = [];
  const gated = readBetsFirst(settler, { source, lockMs: LOCK_MS, log, onFailed: (error) => void failures.push(error), everyMs: 5 });
  return { seen, reads, gated, failures };
}

test("a tick waits until a read of new bets has reached its time less LOCK_MS / 2; the bets read first reach the book before it", async () => {
  const { seen, reads, gated } = setUp();
  reads.push({ bets: [bet("a")], at: T + 1000 });
  expect(await gated.load()).toBe(1);
  gated.onTick(judged(T + 1200)); // 1200 − 250 ≤ 1000: judged at once
  gated.onTick(judged(T + 1300)); // 1300 − 250 > 1000: held
  gated.onTick(judged(T + 1260)); // held behind it, order kept
  gated.onClock(T + 1270); // nothing is decided while ticks wait
  expect(seen).toEqual(["add a", "tick 1200"]);

  reads.push({ bets: [bet("b")], at: T + 1049 }, { bets: [bet("c")], at: T + 1100 });
  gated.start();
  await Bun.sleep(40);
  await gated.stop();
  // The read at 1049 frees nothing (1300 − 250 = 1050); the one at 1100 frees both, after its bet joined the book.
  expect(seen).toEqual(["add a", "tick 1200", "add b", "add c", "tick 1300", "tick 1260"]);
  gated.onClock(T + 1350);
  expect(seen.at(-1)).toBe("clock 1350");
});

test("stored ticks read back at start are never held; a failing read holds ticks without losing them", async () => {
  const { seen, reads, gated } = setUp();
  reads.push({ bets: [], at: T + 1000 });
  await gated.load();
  gated.replay(judged(T + 5000));
  expect(seen).toEqual(["replay 5000"]);

  let fail = true;
  const flaky = readBetsFirst(
    {
      add: () => {},
      onTick: (j: JudgedTick) => void seen.push(`tick ${j.tick.ts - T}`),
    } as unknown as Settler,
    {
      source: {
        read: async () => {
          if (fail) throw new Error("database away");
          return { bets: [], at: T + 10_000 };
        },
      },
      lockMs: LOCK_MS,
      log,
      onFailed: () => {},
      everyMs: 5,
    },
  );
  flaky.onTick(judged(T + 2000));
  flaky.start();
  await Bun.sleep(30);
  expect(seen).toEqual(["replay 5000"]);
  fail = false;
  await Bun.sleep(30);
  await flaky.stop();
  expect(seen).toEqual(["replay 5000", "tick 2000"]);
});
