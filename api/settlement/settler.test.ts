import { expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import type { SettleStore } from "./settle-store.ts";
import { createSettler } from "./settler.ts";
import { createSettlementBook, type OpenBet } from "./settlement-book.ts";

const bet = (id: string, lowCents: number): OpenBet => ({
  id,
  playerId: "p1",
  tStart: 10_000,
  tEnd: 15_000,
  lowCents,
  highCents: lowCents + 1000,
  stakeCents: 100,
  multiplierCenti: 300,
});

function setUp(stored: OpenBet[]) {
  const released: string[] = [];
  const store = {
    openBets: () => stored,
    settle: (decisions) => decisions.map(({ bet, outcome }) => ({ betId: bet.id, playerId: bet.playerId, outcome, payoutCents: 0, balanceCents: 0 })),
  } as Pick<SettleStore, "openBets" | "settle"> as SettleStore;
  const settler = createSettler({
    book: createSettlementBook({ staleMs: 5000, graceMs: 1000, timeoutMs: 60_000 }),
    store,
    exposure: { release: (entry) => void released.push((entry as OpenBet).id) },
    events: { push: () => {} },
    log: createLogger({ component: "api", level: "silent" }),
    now: () => 0,
  });
  return { settler, released };
}

test("the stored open bets are loaded once: a second load is refused, not doubled", () => {
  const { settler } = setUp([bet("a", 4_200_000), bet("b", 4_300_000)]);
  expect(settler.load()).toBe(2);
  expect(() => settler.load()).toThrow(/once/);
  expect(settler.stats().open_bets).toBe(2);
});

test("open bets are counted as they are added and decided, and each decided bet's exposure is released once", () => {
  const { settler, released } = setUp([bet("a", 4_200_000)]);
  settler.load();
  settler.add(bet("b", 4_200_000));
  settler.add(bet("c", 4_300_000));
  expect(settler.stats().open_bets).toBe(3);
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 9_000, price: 42_500 }, continuous: false });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 11_000, price: 42_005 }, continuous: true });
  expect(settler.stats()).toMatchObject({ open_bets: 1, settled: 2 });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 15_001, price: 42_005 }, continuous: true });
  expect(settler.stats()).toMatchObject({ open_bets: 0, settled: 3 });
  expect(released.sort()).toEqual(["a", "b", "c"]);
});
