import { expect, test } from "bun:test";
import type { BetRequest } from "../../common/contracts/bet.ts";
import type { BetOutcome } from "./api-client.ts";
import { createBetBook } from "./bet-book.ts";
import { DEFAULT_GRID, gridCell } from "./grid-model.ts";

function deferredSend() {
  const calls: { request: BetRequest; answer: (outcome: BetOutcome) => void }[] = [];
  const send = (request: BetRequest) => new Promise<BetOutcome>((answer) => calls.push({ request, answer }));
  return { calls, send };
}

const cell = gridCell(10_000, 42_010, DEFAULT_GRID);
const other = gridCell(15_000, 42_020, DEFAULT_GRID);

test("a bet goes pending, then accepted, and the cell sums its stakes", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ userId: "guest-1", send });
  const first = book.place(cell, 5);
  expect(book.latest()).toMatchObject({ state: "pending", amount: 5 });
  expect(book.cell(cell.key)?.pending).toBe(1);
  expect(calls[0]!.request).toEqual({ user_id: "guest-1", amount: 5, cell: { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 } });
  calls[0]!.answer({ ok: true, betId: "b-1" });
  await first;
  expect(book.latest()).toMatchObject({ state: "accepted", betId: "b-1" });
  const second = book.place(cell, 0.1);
  calls[1]!.answer({ ok: true, betId: "b-2" });
  await second;
  expect(book.cell(cell.key)).toEqual({ pending: 0, acceptedCents: 510, betIds: ["b-1", "b-2"], error: undefined, tEnd: 15_000 } as never);
  expect(book.accepted().map((bet) => bet.betId)).toEqual(["b-1", "b-2"]);
});

test("a refusal keeps the API's message, and an old answer never overwrites a newer status", async () => {
  const { calls, send } = deferredSend();
  const book = createBetBook({ userId: "g", send });
  const slow = book.place(cell, 5);
  const fast = book.place(other, 5);
  calls[1]!.answer({ ok: false, message: "bet is not valid: /cell/t_end must be in the future" });
  await fast;
  calls[0]!.answer({ ok: true, betId: "b-1" });
  await slow;
  expect(book.latest()).toMatchObject({ state: "rejected", message: "bet is not valid: /cell/t_end must be in the future" });
  expect(book.cell(other.key)?.error).toContain("must be in the future");
  const before = book.version();
  book.forgetBefore(15_001);
  expect(book.cell(cell.key)).toBeUndefined();
  expect(book.cell(other.key)).toBeDefined();
  expect(book.accepted()).toEqual([]);
  expect(book.version()).toBeGreaterThan(before);
});
