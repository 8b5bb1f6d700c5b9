import { describe, expect, test } from "bun:test";
import { fetchBetPage, fetchOpenBets, fetchPriceHistory, placeBet, readError } from "./api-client.ts";
import { type Session, SessionError } from "./session.ts";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const refusal = (status: number, code: string, message: string, headers: Record<string, string> = {}, details: unknown[] = []) =>
  json(status, { error: { code, message, details, request_id: "r" } }, headers);
const cell = { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 };

/** A session whose requests go to `answer`; it records what was sent. */
function fakeSession(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const session: Session = {
    userId: () => "p1",
    token: async () => "t1",
    renew: async () => "t2",
    fetch: async (url, init = {}) => {
      calls.push({ url, init });
      return answer(url, init);
    },
  };
  return { session, calls };
}

describe("placeBet", () => {
  test("posts the bet with the tap's idempotency key and returns id, multiplier, payout and balance", async () => {
    const { session, calls } = fakeSession(() => json(202, { status: "accepted", bet_id: "b-1", multiplier: 2.35, potential_payout: 11.75, balance: 995 }));
    const outcome = await placeBet(session, { amount: 5, cell }, { idempotencyKey: "tap-1" });
    expect(outcome).toEqual({ ok: true, betId: "b-1", multiplier: 2.35, potentialPayout: 11.75, balance: 995 });
    expect(calls[0]!.url).toBe("/api/bets");
    expect(new Headers(calls[0]!.init.headers).get("idempotency-key")).toBe("tap-1");
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ amount: 5, cell });
  });

  test("quote_changed: not placed, the current multiplier in words and as a number; min_multiplier and quote_id sent", async () => {
    const { session, calls } = fakeSession(() =>
      json(409, {
        error: {
          code: "quote_changed",
          message: "the multiplier is now 8.71×, below the 37.40× asked",
          details: [{ path: "/min_multiplier", message: "below the current multiplier" }],
          request_id: "r",
          current_multiplier: 8.71,
        },
      }),
    );
    const request = { amount: 5, cell, min_multiplier: 37.4, quote_id: "q-1" };
    const outcome = await placeBet(session, request, { idempotencyKey: "tap-1" });
    expect(outcome).toEqual({ ok: false, code: "quote_changed", message: "Now 8.71× — tap again to take it", currentMultiplier: 8.71 });
    expect(calls).toHaveLength(1);
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual(request);
  });

  test("a request that got no answer is sent once more under the same key", async () => {
    let n = 0;
    const { session, calls } = fakeSession(() => {
      if (n++ === 0) throw new TypeError("network");
      return json(202, { status: "accepted", bet_id: "b-1", multiplier: 2, potential_payout: 10, balance: 995 });
    });
    expect(await placeBet(session, { amount: 5, cell }, { idempotencyKey: "tap-9" })).toMatchObject({ ok: true, betId: "b-1" });
    expect(calls.map((c) => new Headers(c.init.headers).get("idempotency-key"))).toEqual(["tap-9", "tap-9"]);

    const down = fakeSession(() => Promise.reject(new TypeError("network")));
    expect(await placeBet(down.session, { amount: 5, cell }, { idempotencyKey: "k" })).toEqual({ ok: false, code: "network", message: "could not reach the server" });
    expect(down.calls).toHaveLength(2);
  });

  test("refusals come back in plain words, and it never throws", async () => {
    const cases: [Response, string, string][] = [
      [refusal(409, "cell_locked", "this cell's window starts too soon"), "cell_locked", "too late: this cell is locked"],
      [refusal(409, "insufficient_funds", "balance 3 is less than the stake"), "insufficient_funds", "insufficient funds: the stake is more than your balance"],
      [refusal(429, "rate_limited", "too many bets", { "retry-after": "1" }), "rate_limited", "rate limited: too many requests, try again in 1 s"],
      [refusal(409, "limit_exceeded", "stake must be between 0.1 and 100"), "limit_exceeded", "limit exceeded: stake must be between 0.1 and 100"],
      [refusal(400, "validation_failed", "bet is not valid", {}, [{ path: "/amount", message: "too small" }]), "validation_failed", "bet is not valid: /amount too small"],
      [refusal(503, "unavailable", "the API is not answering"), "unavailable", "the API is not answering"],
      [new Response("<html>", { status: 502 }), "network", "the server answered 502"],
    ];
    for (const [response, code, message] of cases) {
      expect(await placeBet(fakeSession(() => response.clone()).session, { amount: 5, cell }, { idempotencyKey: "k" })).toEqual({ ok: false, code, message } as never);
    }
    const noSession = fakeSession(() => {
      throw new SessionError(refusal(429, "rate_limited", "too many new sessions", { "retry-after": "30" }));
    });
    expect(await placeBet(noSession.session, { amount: 5, cell }, { idempotencyKey: "k" })).toEqual({
      ok: false,
      code: "rate_limited",
      message: "no session: rate limited: too many requests, try again in 30 s",
    });
  });

  test("readError without the contract falls back to the status", async () => {
    expect(await readError(new Response("", { status: 500 }))).toEqual({ code: "network", message: "the server answered 500" });
  });
});

describe("fetchOpenBets", () => {
  test("asks for open bets a hundred at a time and follows next_before", async () => {
    const bet = (id: string) => ({ bet_id: id, status: "open", amount: 5, multiplier: 2, potential_payout: 10, payout: 0, cell, created_at: 1, settled_at: null });
    const pages = [
      { bets: [bet("b-2")], next_before: "b-2" },
      { bets: [bet("b-1")], next_before: null },
    ];
    const { session, calls } = fakeSession(() => json(200, pages[calls.length - 1]));
    expect((await fetchOpenBets(session)).map((b) => b.bet_id)).toEqual(["b-2", "b-1"]);
    expect(calls.map((c) => c.url)).toEqual(["/api/bets?status=open&limit=100", "/api/bets?status=open&limit=100&before=b-2"]);
  });
});

describe("fetchPriceHistory", () => {
  test("follows truncated pages from the last ts + 1", async () => {
    const urls: string[] = [];
    const pages = [
      { symbol: "BTC-USD", from: 0, to: 100, truncated: true, ticks: [{ symbol: "BTC-USD", price: 1, ts: 10 }] },
      { symbol: "BTC-USD", from: 11, to: 100, truncated: false, ticks: [{ symbol: "BTC-USD", price: 2, ts: 20 }] },
    ];
    const ticks = await fetchPriceHistory({ from: 0, to: 100, limit: 1 }, async (url) => (urls.push(url), json(200, pages[urls.length - 1])));
    expect(ticks.map((t) => t.ts)).toEqual([10, 20]);
    expect(urls).toEqual(["/api/prices?from=0&to=100&limit=1", "/api/prices?from=11&to=100&limit=1"]);
  });
});

describe("fetchBetPage", () => {
  test("asks one page of any status, then the next from next_before", async () => {
    const { session, calls } = fakeSession(() => json(200, { bets: [], next_before: null }));
    expect(await fetchBetPage(session)).toEqual({ bets: [], next_before: null });
    await fetchBetPage(session, { before: "0192f0c4-7a1e", limit: 50 });
    expect(calls.map((call) => call.url)).toEqual(["/api/bets?limit=20", "/api/bets?limit=50&before=0192f0c4-7a1e"]);
  });

  test("a refusal throws in plain words", async () => {
    const { session } = fakeSession(() => refusal(401, "unauthorized", "bad token"));
    await expect(fetchBetPage(session)).rejects.toThrow("your session has ended; reload the page");
  });
});
