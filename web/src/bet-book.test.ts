import { expect, test } from "bun:test";
import type { BetRequest, BetView } from "../../common/contracts/bet.ts";
import type { BetOutcome } from "./api-client.ts";
import { createBetBook, type KeyedCell, newTapKey } from "./bet-book.ts";
import { cellKey } from "./grid-model.ts";

function deferredSend() {
  const calls: { request: BetRequest; key: string; answer: (outcome: BetOutcome) => void }[] = [];
  const send = (request: BetRequest, key: string) => new Promise<BetOutcome>((answer) => calls.push({ request, key, answer }));
  return { calls, send };
}

const keyed = (t: number, low: number): KeyedCell & { multiplier: number; locked: boolean } => ({
  key: cellKey(t, low),
  t_start: t,
  t_end: t + 5000,
  price_low: low,
  price_high: low + 10,
  multiplier: 2.5,
  locked: false,
});
const cell = keyed(10_000, 42_010);
const other = keyed(15_000, 42_020);
const accepted = (betId: string, balance: number, multiplier = 2): BetOutcome => ({ ok: true, betId, multiplier, potentialPayout: 10, balance });
let keys = 0;
const newKey = () => `tap-${++keys}`;

test("a bet goes pending, then accepted; only the cell goes on the wire, each tap under its own key", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  const first = book.place(cell, 5);
  expect(book.latest()).toMatchObject({ state: "pending", amount: 5 });
  expect(book.cell(cell.key)?.pending).toBe(1);
  expect(calls[0]!.request).toEqual({ amount: 5, cell: { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 } });
  calls[0]!.answer(accepted("b-1", 995, 2.35));
  await first;
  expect(book.latest()).toMatchObject({ state: "accepted", betId: "b-1", multiplier: 2.35 });
  expect(book.balance()).toBe(995);
  const second = book.place(cell, 0.1);
  calls[1]!.answer(accepted("b-2", 994.9));
  await second;
  expect(calls[0]!.key).not.toBe(calls[1]!.key);
  expect(book.cell(cell.key)).toMatchObject({ pending: 0, acceptedCents: 510, payoutCents: 2000, betIds: ["b-1", "b-2"], error: undefined });
  expect(book.accepted().map((bet) => bet.betId)).toEqual(["b-1", "b-2"]);
  expect(book.balance()).toBe(994.9);
});

test("a refusal keeps its code and words, and an old answer never overwrites a newer status or balance", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  book.setBalance(1000);
  const slow = book.place(cell, 5);
  const fast = book.place(other, 5);
  const newest = book.place(other, 1);
  calls[1]!.answer({ ok: false, code: "insufficient_funds", message: "insufficient funds: the stake is more than your balance" });
  await fast;
  calls[2]!.answer(accepted("b-3", 990));
  await newest;
  calls[0]!.answer(accepted("b-1", 995));
  await slow;
  expect(book.latest()).toMatchObject({ state: "accepted", betId: "b-3" });
  expect(book.balance()).toBe(990);
  expect(book.cell(other.key)?.error).toBeUndefined();
  expect(book.accepted().map((bet) => bet.betId)).toEqual(["b-1", "b-3"]);

  const refused = book.place(cell, 100);
  calls[3]!.answer({ ok: false, code: "insufficient_funds", message: "insufficient funds: the stake is more than your balance" });
  await refused;
  expect(book.latest()).toMatchObject({ state: "rejected", code: "insufficient_funds" });
  expect(book.cell(cell.key)?.error).toContain("insufficient funds");

  const before = book.version();
  book.forgetBefore(15_001);
  expect(book.cell(cell.key)).toBeUndefined();
  expect(book.cell(other.key)).toBeDefined();
  expect(book.accepted().map((bet) => bet.betId)).toEqual(["b-3"]);
  expect(book.version()).toBeGreaterThan(before);
});

test("open bets from the server land on their cells once, in window order", () => {
  const book = createBetBook({ send: deferredSend().send, newKey });
  const view = (id: string, t: number, status: BetView["status"] = "open"): BetView => ({
    bet_id: id,
    status,
    amount: 2.5,
    multiplier: 3,
    potential_payout: 7.5,
    payout: 0,
    cell: { t_start: t, t_end: t + 5000, price_low: 42_010, price_high: 42_020 },
    created_at: 1,
    settled_at: null,
  });
  book.load([view("b-2", 15_000), view("b-1", 10_000), view("b-0", 10_000, "lost")]);
  book.load([view("b-2", 15_000)]);
  expect(book.accepted().map((bet) => [bet.betId, bet.cell.key, bet.multiplier])).toEqual([
    ["b-1", "10000:4201000", 3],
    ["b-2", "15000:4201000", 3],
  ]);
  expect(book.cell("15000:4201000")).toMatchObject({ acceptedCents: 250, payoutCents: 750, multiplier: 3, betIds: ["b-2"] });
});

test("a cell's multiplier is the one its bets were taken at, weighted by stake, not the live one", () => {
  const book = createBetBook({ send: deferredSend().send, newKey });
  const view = (id: string, amount: number, multiplier: number): BetView => ({
    bet_id: id,
    status: "open",
    amount,
    multiplier,
    potential_payout: amount * multiplier,
    payout: 0,
    cell: { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 },
    created_at: 1,
    settled_at: null,
  });
  book.load([view("a", 1, 2)]);
  expect(book.cell("10000:4201000")?.multiplier).toBe(2);
  book.load([view("b", 3, 4)]);
  expect(book.cell("10000:4201000")?.multiplier).toBe(3.5);
});

test("tap keys fit the API's Idempotency-Key rule", () => {
  const key = newTapKey();
  expect(key).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  expect(newTapKey()).not.toBe(key);
});

test("bet events: the balance follows them, results land on the bet and its cell, unknown bets are reported", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  const placing = book.place(cell, 5);
  calls[0]!.answer(accepted("b-1", 995, 2.35));
  await placing;
  expect(book.apply({ type: "bet", bet_id: "b-1", status: "accepted", payout: 0, balance: 995 })).toBe(true);
  // Accepted on another device: the book does not know it yet.
  expect(book.apply({ type: "bet", bet_id: "b-9", status: "accepted", payout: 0, balance: 990 })).toBe(false);
  expect(book.balance()).toBe(990);

  // A tap in flight keeps the status line; its answer (sent before the event) must not undo the event's balance.
  const inFlight = book.place(other, 1);
  expect(book.apply({ type: "bet", bet_id: "b-1", status: "won", payout: 11.75, balance: 1000.75 })).toBe(true);
  expect(book.latest()).toMatchObject({ state: "pending" });
  calls[1]!.answer(accepted("b-2", 989));
  await inFlight;
  expect(book.balance()).toBe(1000.75);
  expect(book.cell(cell.key)).toMatchObject({ result: "won", paidCents: 1175 });
  expect(book.accepted().find((bet) => bet.betId === "b-1")?.result).toBe("won");

  // With nothing in flight a result becomes the latest news; a repeat changes nothing.
  expect(book.apply({ type: "bet", bet_id: "b-2", status: "lost", payout: 0, balance: 999.75 })).toBe(true);
  expect(book.latest()).toMatchObject({ state: "accepted", betId: "b-2", result: "lost", paid: 0 });
  expect(book.apply({ type: "bet", bet_id: "b-2", status: "lost", payout: 0, balance: 999.75 })).toBe(true);
  expect(book.cell(other.key)).toMatchObject({ result: "lost", paidCents: 0 });
  expect(book.apply({ type: "bet", bet_id: "gone", status: "void", payout: 5, balance: 1004.75 })).toBe(false);
  expect(book.balance()).toBe(1004.75);
});

test("a void bet's result is its stake paid back, though the API's event carries a win's payout of 0", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  const placing = book.place(cell, 5);
  calls[0]!.answer(accepted("b-1", 995, 2.35));
  await placing;
  expect(book.apply({ type: "bet", bet_id: "b-1", status: "void", payout: 0, balance: 1000 })).toBe(true);
  expect(book.latest()).toMatchObject({ state: "accepted", betId: "b-1", result: "void", paid: 5 });
  expect(book.cell(cell.key)).toMatchObject({ result: "void", paidCents: 500 });
});

test("results read from the server mark the bets settled while the socket was down, once, without touching the balance", () => {
  const book = createBetBook({ send: deferredSend().send, newKey });
  const view = (id: string, t: number, status: BetView["status"], payout = 0): BetView => ({
    bet_id: id,
    status,
    amount: 2.5,
    multiplier: 3,
    potential_payout: 7.5,
    payout,
    cell: { t_start: t, t_end: t + 5000, price_low: 42_010, price_high: 42_020 },
    created_at: 1,
    settled_at: status === "open" ? null : 2,
  });
  book.load([view("b-1", 10_000, "open"), view("b-2", 15_000, "open"), view("b-3", 20_000, "open")]);
  book.setBalance(1007.5);
  const before = book.version();
  book.applyResults([view("b-1", 10_000, "won", 7.5), view("b-2", 15_000, "lost"), view("b-3", 20_000, "open"), view("b-9", 10_000, "won", 7.5)]);
  expect(book.version()).toBeGreaterThan(before);
  expect(book.accepted().map((bet) => [bet.betId, bet.result])).toEqual([
    ["b-1", "won"],
    ["b-2", "lost"],
    ["b-3", undefined],
  ]);
  expect(book.cell("10000:4201000")).toMatchObject({ result: "won", paidCents: 750 });
  expect(book.balance()).toBe(1007.5);
  // The event arriving late changes nothing more: paid once.
  book.apply({ type: "bet", bet_id: "b-1", status: "won", payout: 7.5, balance: 1007.5 });
  expect(book.cell("10000:4201000")).toMatchObject({ paidCents: 750 });
});

test("every change of the balance is counted, so a slow read of it can tell it was overtaken", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  const start = book.balanceChanges();
  book.setBalance(1000);
  expect(book.balanceChanges()).toBe(start + 1);
  const placed = book.place(cell, 5);
  calls[0]!.answer(accepted("b-1", 995));
  await placed;
  expect(book.balanceChanges()).toBe(start + 2);
  book.apply({ type: "bet", bet_id: "b-1", status: "won", payout: 12.5, balance: 1007.5 });
  expect(book.balanceChanges()).toBe(start + 3);
  expect(book.balance()).toBe(1007.5);
});

test("a quoted tap sends min_multiplier (two decimals, rounded down) and quote_id beside the cell", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ send, newKey });
  const placing = book.place(cell, 5, { minMultiplier: 37.409, quoteId: "q-1" });
  expect(calls[0]!.request).toEqual({ amount: 5, cell: { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 }, min_multiplier: 37.4, quote_id: "q-1" });
  calls[0]!.answer({ ok: false, code: "quote_changed", message: "Now 8.71× — tap again to take it", currentMultiplier: 8.71 });
  await placing;
  expect(book.latest()).toMatchObject({ state: "rejected", code: "quote_changed" });
  expect(book.cell(cell.key)?.error).toBe("Now 8.71× — tap again to take it");
  expect(book.balance()).toBeUndefined();
});
