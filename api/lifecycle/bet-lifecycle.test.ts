import { expect, test } from "bun:test";
import { createMemoryBus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import type { BetEventEnvelope } from "../../common/contracts/bet-event.ts";
import type { BetRequest } from "../../common/contracts/bet.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import { createLogger } from "../../common/log.ts";
import { metricsRegistry } from "../../common/metrics/registry.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { waitFor } from "../../test/support/wait.ts";
import { createBetStore } from "../bets/bet-store.ts";
import type { BetRefused } from "../bets/bet-refused.ts";
import { createGroupCommitter } from "../bets/group-commit.ts";
import { createBetPlacement } from "../bets/placement.ts";
import { createRateLimiter } from "../http/rate-limiter.ts";
import { createMarket } from "../market/market.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createSettleStore } from "../settlement/settle-store.ts";
import { createBetLifecycle } from "./bet-lifecycle.ts";

const T = 1_800_000_000_000;
const STALE = 1000;
const tick = (seq: number, price: number): BusTick => ({ symbol: "BTC-USD", price, ts: T + seq * 100, seq });
/** A cell over [T+1000, T+2000] × [low, low + 10]. */
const request = (price_low: number): BetRequest => ({ amount: 1, cell: { t_start: T + 1000, t_end: T + 2000, price_low, price_high: price_low + 10 } });

/** The lifecycle over a temp database and a memory bus, a placement wired to it as api/main.ts does, and the bet events heard. */
async function setUp({ maxOpenBets = 1 } = {}) {
  const now = { value: T };
  const db = openTempStore();
  createPlayerStore(db).create("p1", 10_000, T);
  const bus = createMemoryBus();
  const heard: BetEventEnvelope[] = [];
  await bus.subscribe(Channels.betEvents, (message) => void heard.push(...(JSON.parse(message) as BetEventEnvelope[])));
  const log = createLogger({ component: "api", level: "silent" });
  const lifecycle = createBetLifecycle({
    store: createSettleStore(db),
    bus,
    log,
    limits: { maxOpenBets, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e9 },
    settlement: { staleMs: STALE, graceMs: 200, timeoutMs: 5000 },
    now: () => now.value,
  });
  const bets = createBetStore(db);
  const placement = () =>
    createBetPlacement({
      grid: { judge: () => ({ ok: true, multiplier: 3, quoted: 3 }), maxMultiplier: 100, minRtp: 0.9 },
      exposure: lifecycle.exposure,
      bets,
      commits: createGroupCommitter(bets.placeBatch),
      limiter: createRateLimiter({ rate: 1000 }),
      minStakeCents: 10,
      maxStakeCents: 5000,
      onPlaced: lifecycle.placed,
      now: () => now.value,
    });
  const startJudging = () =>
    lifecycle.startJudging({
      market: createMarket({ sigmaFloor: 0.0001, staleMs: STALE }),
      history: { history: async () => [] },
      bounds: { maxSkewMs: 1000, maxJump: 0.01, staleMs: STALE },
      onWriteFailed: (error) => {
        throw error;
      },
    });
  const publish = async (seq: number, price: number) => {
    now.value = T + seq * 100;
    await bus.publish(Channels.priceTicks, JSON.stringify(tick(seq, price)));
  };
  const row = (id: string) => db.query("SELECT status, payout_cents FROM bets WHERE id = ?").get(id);
  const balance = () => (db.query("SELECT balance_cents FROM players WHERE id = 'p1'").get() as { balance_cents: number }).balance_cents;
  return { db, lifecycle, placement, startJudging, publish, heard, row, balance };
}

test("a bet's life: placed, its player told; settled by a tick, paid, told, and its share of the limits given back", async () => {
  const { db, lifecycle, placement, startJudging, publish, heard, row, balance } = await setUp();
  using _ = db;
  expect(lifecycle.load()).toEqual({ openBets: 0, settling: 0 });
  const place = placement();
  const judging = await startJudging();
  await judging.feed.ready;

  const accepted = await place.place("p1", request(42_100), null);
  await waitFor("the accepted event", () => heard.length === 1);
  expect(heard).toEqual([{ player_id: "p1", event: { type: "bet", bet_id: accepted.bet_id, status: "accepted", payout: 0, balance: 99 } }]);
  // The bet holds the one open bet the limits allow.
  expect(await place.place("p1", request(42_200), null).catch((error: BetRefused) => error.reason)).toBe("limit_exceeded");

  for (let seq = 5; seq < 15; seq++) await publish(seq, 42_000);
  await publish(15, 42_105);
  await waitFor("the settled event", () => heard.length === 2);
  expect(heard[1]).toEqual({ player_id: "p1", event: { type: "bet", bet_id: accepted.bet_id, status: "won", payout: 3, balance: 102 } });
  expect(row(accepted.bet_id)).toEqual({ status: "won", payout_cents: 300 });
  expect(balance()).toBe(10_200);
  // Settled: its share is back, so another bet fits.
  expect(await place.place("p1", request(42_200), null)).toMatchObject({ status: "accepted" });
  await judging.stop();
});

test("at start, the open bets on disk hold their share of the limits and are settled like new ones", async () => {
  const { db, lifecycle, placement, startJudging, publish, heard, row } = await setUp();
  using _ = db;
  // Stored before the restart; this lifecycle knows it only from the database.
  createBetStore(db).placeBatch([
    { id: "b0", playerId: "p1", stakeCents: 100, tStart: T + 1000, tEnd: T + 2000, lowCents: 4_210_000, highCents: 4_211_000, multiplierCenti: 300, createdAt: T, idempotencyKey: null },
  ]);
  expect(lifecycle.load()).toEqual({ openBets: 1, settling: 1 });
  const place = placement();
  expect(await place.place("p1", request(42_200), null).catch((error: BetRefused) => error.reason)).toBe("limit_exceeded");

  const judging = await startJudging();
  await judging.feed.ready;
  // Every 100 ms, no number skipped, none in the band: observed and untouched, lost at the first tick after t_end.
  for (let seq = 5; seq <= 21; seq++) await publish(seq, 42_000);
  await waitFor("the settled event", () => heard.length === 1);
  expect(heard).toEqual([{ player_id: "p1", event: { type: "bet", bet_id: "b0", status: "lost", payout: 0, balance: 99 } }]);
  expect(row("b0")).toEqual({ status: "lost", payout_cents: 0 });
  expect(await place.place("p1", request(42_200), null)).toMatchObject({ status: "accepted" });
  await judging.stop();
});

test("a placed bet is counted accepted once, with its stake; its retry under the same Idempotency-Key and the open bets loaded at start are not", async () => {
  const { db, lifecycle, placement } = await setUp({ maxOpenBets: 5 });
  using _ = db;
  db.run(
    `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
     VALUES ('b0', 'p1', 100, ${T + 1000}, ${T + 2000}, 4190000, 4191000, 300, ${T}, 9900)`,
  );
  db.run(`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'stake', -100, 'b0', ${T})`);
  const before = { accepted: await metricValue("tap_bets_accepted_total"), stakes: await metricValue("tap_stakes_cents_total") };
  expect(lifecycle.load()).toEqual({ openBets: 1, settling: 1 });
  const place = placement();
  const first = await place.place("p1", { ...request(42_100), amount: 2.5 }, "key-1");
  const again = await place.place("p1", { ...request(42_100), amount: 2.5 }, "key-1");
  expect(again.bet_id).toBe(first.bet_id);
  expect(await metricValue("tap_bets_accepted_total")).toBe(before.accepted + 1);
  expect(await metricValue("tap_stakes_cents_total")).toBe(before.stakes + 250);
});

/** The sum of a metric's series (0 before it has one). */
async function metricValue(name: string): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, value) => sum + value.value, 0);
}
