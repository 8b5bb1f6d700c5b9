import { describe, expect, test } from "bun:test";
import { fetchPriceHistory, placeBet } from "./api-client.ts";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const cell = { t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 };

describe("placeBet", () => {
  test("posts the bet to the relative URL and returns the id", async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const outcome = await placeBet(
      { user_id: "guest-1", amount: 5, cell },
      { fetchImpl: async (url, init) => (calls.push([url, init]), json(202, { status: "accepted", bet_id: "b-1", message: "bet stored" })) },
    );
    expect(outcome).toEqual({ ok: true, betId: "b-1" });
    expect(calls[0]![0]).toBe("/api/bets");
    expect(JSON.parse(String(calls[0]![1]?.body))).toEqual({ user_id: "guest-1", amount: 5, cell });
  });

  test("shows the API's message and first detail on a refusal, and never throws", async () => {
    const refusal = json(400, {
      error: { code: "validation_failed", message: "bet is not valid", details: [{ path: "/cell/t_end", message: "must be in the future" }], request_id: "r" },
    });
    expect(await placeBet({ user_id: "g", amount: 5, cell }, { fetchImpl: async () => refusal })).toEqual({
      ok: false,
      message: "bet is not valid: /cell/t_end must be in the future",
    });
    expect(await placeBet({ user_id: "g", amount: 5, cell }, { fetchImpl: async () => new Response("<html>", { status: 502 }) })).toEqual({
      ok: false,
      message: "the server answered 502",
    });
    expect(await placeBet({ user_id: "g", amount: 5, cell }, { fetchImpl: async () => Promise.reject(new TypeError("network")) })).toEqual({
      ok: false,
      message: "could not reach the server",
    });
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
