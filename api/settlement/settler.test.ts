import { expect, test } from "bun:test";
import type { BetEventEnvelope } from "../../common/contracts/bet-event.ts";
import { createLogger } from "../../common/log.ts";
import { metricsRegistry } from "../../common/metrics/registry.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { createBetStore } from "../bets/bet-store.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createSettleStore, type SettleStore } from "./settle-store.ts";
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

test("each settled bet is told to its player: outcome, payout and the balance after it, as the database holds them", () => {
  using db = openTempStore();
  createPlayerStore(db).create("p1", 1000, 0);
  createPlayerStore(db).create("p2", 1000, 0);
  const order = (id: string, playerId: string, lowCents: number, tEnd = 15_000) => ({
    id,
    playerId,
    stakeCents: 100,
    tStart: 10_000,
    tEnd,
    lowCents,
    highCents: lowCents + 1000,
    multiplierCenti: 275,
    createdAt: 0,
    idempotencyKey: null,
  });
  // Won (touched), lost (observed, untouched), void (no tick within the timeout).
  createBetStore(db).placeBatch([order("won", "p1", 4_200_000), order("lost", "p2", 4_300_000), order("void", "p2", 4_400_000, 16_000)]);
  const events: BetEventEnvelope[] = [];
  const settler = createSettler({
    book: createSettlementBook({ staleMs: 5000, graceMs: 1000, timeoutMs: 2000 }),
    store: createSettleStore(db),
    exposure: { release() {} },
    events: { push: (envelope) => void events.push(envelope) },
    log: createLogger({ component: "api", level: "silent" }),
    now: () => 0,
  });
  settler.load();
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 9_000, price: 42_500 }, continuous: false });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 11_000, price: 42_005 }, continuous: true });
  expect(events).toEqual([{ player_id: "p1", event: { type: "bet", bet_id: "won", status: "won", payout: 2.75, balance: 11.75 } }]);
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 15_001, price: 42_005 }, continuous: true });
  expect(events.slice(1)).toEqual([{ player_id: "p2", event: { type: "bet", bet_id: "lost", status: "lost", payout: 0, balance: 8 } }]);
  // No tick after t_end = 16,000 within the timeout (and the grace after it): void, the stake refunded.
  settler.onClock(16_000 + 2000 + 1000);
  expect(events.slice(2)).toEqual([{ player_id: "p2", event: { type: "bet", bet_id: "void", status: "void", payout: 0, balance: 9 } }]);
  expect(settler.stats()).toMatchObject({ open_bets: 0, settled: 3 });
});

/** The sum of a metric's series with these labels (0 when it has none yet). */
async function metricValue(name: string, labels: Record<string, string> = {}, suffix = ""): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => (suffix === "" || (value as { metricName?: string }).metricName === `${name}${suffix}`) && Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

function settleThree(now: () => number) {
  const db = openTempStore();
  createPlayerStore(db).create("p1", 1000, 0);
  createPlayerStore(db).create("p2", 1000, 0);
  const order = (id: string, playerId: string, lowCents: number, tEnd = 15_000) => ({
    id,
    playerId,
    stakeCents: 100,
    tStart: 10_000,
    tEnd,
    lowCents,
    highCents: lowCents + 1000,
    multiplierCenti: 275,
    createdAt: 0,
    idempotencyKey: null,
  });
  createBetStore(db).placeBatch([order("won", "p1", 4_200_000), order("lost", "p2", 4_300_000), order("void", "p2", 4_400_000, 16_000)]);
  const lines: Record<string, unknown>[] = [];
  const settler = createSettler({
    book: createSettlementBook({ staleMs: 5000, graceMs: 1000, timeoutMs: 2000 }),
    store: createSettleStore(db),
    exposure: { release() {} },
    events: { push: () => {} },
    log: createLogger({ component: "api", level: "info", sink: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } }),
    now,
  });
  settler.load();
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 9_000, price: 42_500 }, continuous: false });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 11_000, price: 42_005 }, continuous: true });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 15_001, price: 42_005 }, continuous: true });
  settler.onClock(16_000 + 2000 + 1000);
  return { db, lines };
}

test("each settled bet is one info line with its bet, player, outcome and payout", () => {
  const { db, lines } = settleThree(() => 20_000);
  using _ = db;
  const settledLines = lines.filter((line) => line.msg === "bet settled");
  expect(settledLines.map(({ level, component, bet_id, player_id, outcome, payout_cents }) => ({ level, component, bet_id, player_id, outcome, payout_cents }))).toEqual([
    { level: "info", component: "api", bet_id: "won", player_id: "p1", outcome: "won", payout_cents: 275 },
    { level: "info", component: "api", bet_id: "lost", player_id: "p2", outcome: "lost", payout_cents: 0 },
    { level: "info", component: "api", bet_id: "void", player_id: "p2", outcome: "void", payout_cents: 0 },
  ]);
});

test("settled bets are counted by outcome, with the payouts, the refunds and each settlement's lag from its longest-waiting decision", async () => {
  const before = {
    won: await metricValue("tap_bets_settled_total", { outcome: "won" }),
    lost: await metricValue("tap_bets_settled_total", { outcome: "lost" }),
    void: await metricValue("tap_bets_settled_total", { outcome: "void" }),
    payouts: await metricValue("tap_payouts_cents_total"),
    refunds: await metricValue("tap_refunds_cents_total"),
    lagLost: await metricValue("tap_settlement_lag_seconds", { outcome: "lost" }, "_sum"),
  };
  const { db } = settleThree(() => 20_000);
  using _ = db;
  expect(await metricValue("tap_bets_settled_total", { outcome: "won" })).toBe(before.won + 1);
  expect(await metricValue("tap_bets_settled_total", { outcome: "lost" })).toBe(before.lost + 1);
  expect(await metricValue("tap_bets_settled_total", { outcome: "void" })).toBe(before.void + 1);
  expect(await metricValue("tap_payouts_cents_total")).toBe(before.payouts + 275);
  expect(await metricValue("tap_refunds_cents_total")).toBe(before.refunds + 100);
  // The lost bet's window ended at 15,000 and it was written at 20,000.
  expect(await metricValue("tap_settlement_lag_seconds", { outcome: "lost" }, "_sum")).toBeCloseTo(before.lagLost + 5, 6);
});

test("a bet joining the book is not counted as accepted: the node that placed it counted it (a settler reading other nodes' bets, or taking over, counts none)", async () => {
  const { settler } = setUp([]);
  const accepted = await metricValue("tap_bets_accepted_total");
  const stakes = await metricValue("tap_stakes_cents_total");
  settler.add(bet("n1", 4_200_000));
  expect(await metricValue("tap_bets_accepted_total")).toBe(accepted);
  expect(await metricValue("tap_stakes_cents_total")).toBe(stakes);
});

test("a large settlement is written in runs of at most writeChunk, a window's losses over several naming it until the last, the tick with the first, the event loop turning between", async () => {
  // 600 bets of one window touched (won) and 400 of another window lost, all decided by one tick.
  const wonBets = Array.from({ length: 600 }, (_, i) => ({ ...bet(`w${i}`, 4_200_000), playerId: `p${i % 7}` }));
  const lostBets = Array.from({ length: 400 }, (_, i) => ({ ...bet(`l${i}`, 4_600_000), tStart: 9_000, tEnd: 10_500, playerId: `p${i % 5}` }));
  const runs: { ids: string[]; tick: boolean; turn: number; continuing: string[] }[] = [];
  let turn = 0;
  const store = {
    openBets: () => [...wonBets, ...lostBets],
    settle: (decisions, _now, judged, continuing) => {
      runs.push({ ids: decisions.map(({ bet }) => bet.id), tick: judged !== undefined, turn, continuing: [...(continuing ?? [])] });
      return decisions.map(({ bet, outcome }) => ({ betId: bet.id, playerId: bet.playerId, outcome, payoutCents: 0, balanceCents: 0 }));
    },
  } as Pick<SettleStore, "openBets" | "settle"> as SettleStore;
  const told: string[] = [];
  const settler = createSettler({
    book: createSettlementBook({ staleMs: 5000, graceMs: 1000, timeoutMs: 60_000 }),
    store,
    exposure: { release: () => {} },
    events: { push: (envelope) => void told.push((envelope as { bet_id?: string }).bet_id ?? JSON.stringify(envelope)) },
    log: createLogger({ component: "api", level: "silent" }),
    now: () => 0,
    writeChunk: 250,
  });
  settler.load();
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 8_900, price: 42_000 }, continuous: false });
  runs.length = 0; // that tick decided nothing: only the next one's runs are looked at
  // Something else waiting for the event loop: it must get turns between the runs.
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 10_600, price: 42_005 }, continuous: true });
  await settler.settled();
  ticking = false;

  expect(runs.map((run) => run.ids.length)).toEqual([250, 250, 250, 250]);
  // The lost window's bets span runs; each run but the last one holding them names the window.
  const withLosses = runs.filter((run) => run.ids.some((id) => id.startsWith("l")));
  expect(withLosses.length).toBeGreaterThan(1);
  expect(withLosses.map((run) => run.continuing)).toEqual(withLosses.map((_, i) => (i < withLosses.length - 1 ? ["9000:10500"] : [])));
  expect(runs.filter((run) => !withLosses.includes(run)).every((run) => run.continuing.length === 0)).toBe(true);
  expect(runs.map((run) => run.tick)).toEqual(runs.map((_, i) => i === 0));
  expect(runs.flatMap((run) => run.ids).sort()).toEqual([...wonBets, ...lostBets].map((b) => b.id).sort());
  expect(new Set(runs.map((run) => run.turn)).size).toBe(runs.length);
  expect(settler.stats()).toMatchObject({ open_bets: 0, settled: 1000 });
});

test("settled in small runs on a real database, every bet is paid exactly what the rules owe it, recomputed here from the ticks", async () => {
  using db = openTempStore();
  const players = ["p1", "p2", "p3", "p4", "p5"];
  for (const id of players) createPlayerStore(db).create(id, 100_000, 0);
  // 60 bets over one window: the band 42,000–42,010 is touched at ts 11,000; the others never are.
  const bands = [4_200_000, 4_300_000, 4_400_000];
  const orders = Array.from({ length: 60 }, (_, i) => ({
    id: `bet-${String(i).padStart(3, "0")}`,
    playerId: players[i % players.length]!,
    stakeCents: 100 + i * 7,
    tStart: 10_000,
    tEnd: 15_000,
    lowCents: bands[i % bands.length]!,
    highCents: bands[i % bands.length]! + 1000,
    multiplierCenti: 150 + i * 11,
    createdAt: 0,
    idempotencyKey: null,
  }));
  createBetStore(db).placeBatch(orders);
  // The window's 40 losses go over several runs of 7: the database and the book agree on them, so nothing is reported.
  const disagreements: unknown[] = [];
  const settler = createSettler({
    book: createSettlementBook({ staleMs: 5000, graceMs: 1000, timeoutMs: 60_000 }),
    store: createSettleStore(db, { onDisagreement: (window) => disagreements.push(window) }),
    exposure: { release() {} },
    events: { push() {} },
    log: createLogger({ component: "api", level: "silent" }),
    now: () => 0,
    writeChunk: 7,
  });
  settler.load();
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 9_000, price: 42_500 }, continuous: false });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 11_000, price: 42_005 }, continuous: true });
  settler.onTick({ tick: { symbol: "BTC-USD", ts: 15_001, price: 42_005 }, continuous: true });
  await settler.settled();

  // The rules (docs/rules.md), applied here: touched band → won, stake × multiplier rounded down; else lost.
  const rows = db.query("SELECT id, player_id, stake_cents, multiplier_centi, price_low_cents, status, payout_cents FROM bets ORDER BY id").all() as {
    id: string; player_id: string; stake_cents: number; multiplier_centi: number; price_low_cents: number; status: string; payout_cents: number;
  }[];
  const expectedBalance = new Map(players.map((id) => [id, 100_000]));
  for (const row of rows) {
    const won = row.price_low_cents === 4_200_000;
    const payout = won ? Math.floor((row.stake_cents * row.multiplier_centi) / 100) : 0;
    expect({ id: row.id, status: row.status, payout: row.payout_cents }).toEqual({ id: row.id, status: won ? "won" : "lost", payout });
    expectedBalance.set(row.player_id, expectedBalance.get(row.player_id)! - row.stake_cents + payout);
  }
  expect(rows).toHaveLength(60);
  for (const [id, balance] of expectedBalance) {
    expect((db.query("SELECT balance_cents AS b FROM players WHERE id = ?1").get(id) as { b: number }).b).toBe(balance);
    expect((db.query("SELECT sum(amount_cents) AS s FROM ledger WHERE player_id = ?1").get(id) as { s: number }).s).toBe(balance);
  }
  // One credit per won bet, none for a lost one.
  expect((db.query("SELECT count(*) AS n FROM ledger WHERE kind = 'payout'").get() as { n: number }).n).toBe(20);
  expect(disagreements).toEqual([]);
});
