import { describe, expect, test } from "bun:test";
import { WsCloseCode } from "../common/contracts/ws.ts";
import { createCommandHandler, type VerifyToken } from "./command-handler.ts";
import type { Socket } from "./connection.ts";
import type { CountedOutput } from "./counted-output.ts";
import { createGridSubscriptions } from "./grid-subscriptions.ts";

/** A socket and output that record what the handler does with them. */
function setUp({ verifyToken, latestGrid }: { verifyToken?: VerifyToken; latestGrid?: string } = {}) {
  const sent: unknown[] = [];
  const topics = new Set<string>();
  const closes: [number, string][] = [];
  const pricesCalls: string[] = [];
  const ws = {
    data: { wantsPrices: false, wantsGrid: false, topicMember: {}, closedBy: null, expiresAt: Number.POSITIVE_INFINITY } as unknown as Socket["data"],
    isSubscribed: (topic: string) => topics.has(topic),
    close: (code: number, reason: string) => void closes.push([code, reason]),
  } as unknown as Socket;
  const output: CountedOutput = {
    sendText: (_, text) => void sent.push(text),
    send: (_, message) => void sent.push(message),
    sendBinary: () => {},
    join: (_, topic) => void topics.add(topic),
    leave: (_, topic) => void topics.delete(topic),
  };
  const onText = createCommandHandler({
    output,
    prices: {
      join: async (socket) => {
        socket.data.wantsPrices = true;
        pricesCalls.push("join");
      },
      leave: (socket) => {
        socket.data.wantsPrices = false;
        pricesCalls.push("leave");
      },
    },
    grid: createGridSubscriptions({
      topic: { subscribe: () => void topics.add("grid"), unsubscribe: () => void topics.delete("grid") },
      latest: () => (latestGrid === undefined ? undefined : { message: latestGrid, order: 1 }),
      sendText: output.sendText,
    }),
    verifyToken,
  });
  return { ws, onText: (text: string) => onText(ws, text), sent, topics, closes, pricesCalls };
}

describe("createCommandHandler", () => {
  test("anything that is not a command is echoed unchanged; a command of the wrong shape is a bad_command error", () => {
    const { onText, sent } = setUp();
    onText("hello");
    onText('{"type":"chat","text":"hi"}');
    onText('{"type":"subscribe"}');
    expect(sent).toEqual(["hello", '{"type":"chat","text":"hi"}', { type: "error", code: "bad_command", message: "malformed subscribe command" }]);
  });

  test("ping is answered with the server time", () => {
    const { onText, sent } = setUp();
    const before = Date.now();
    onText('{"type":"ping"}');
    expect(sent).toEqual([{ type: "pong", ts: expect.any(Number) }]);
    expect((sent[0] as { ts: number }).ts).toBeGreaterThanOrEqual(before);
  });

  test("a good auth joins the player's topic (leaving another player's) and sets the expiry; a bad one errors and closes 4001", () => {
    const claims: Record<string, { sub: string; exp: number }> = { a: { sub: "p_a", exp: 1000 }, b: { sub: "p_b", exp: 2000 } };
    const { ws, onText, sent, topics, closes } = setUp({ verifyToken: (token) => claims[token] });
    onText('{"type":"auth","token":"a"}');
    onText('{"type":"auth","token":"b"}');
    expect([...topics]).toEqual(["player:p_b"]);
    expect(ws.data.playerId).toBe("p_b");
    expect(ws.data.expiresAt).toBe(2000);
    expect(sent).toEqual([
      { type: "authed", user_id: "p_a" },
      { type: "authed", user_id: "p_b" },
    ]);
    onText('{"type":"auth","token":"forged"}');
    expect(sent.at(-1)).toMatchObject({ type: "error", code: "unauthorized" });
    expect(closes).toEqual([[WsCloseCode.unauthorized, "unauthorized"]]);
    expect(ws.data.closedBy).toBe("bad auth");
  });

  test("without a token checker auth is refused", () => {
    const { onText, sent, closes } = setUp();
    onText('{"type":"auth","token":"a"}');
    expect(sent).toEqual([{ type: "error", code: "unauthorized", message: "this server cannot check session tokens" }]);
    expect(closes).toHaveLength(1);
  });

  test("subscribe to grid sends the latest grid, then joins; unsubscribe leaves; prices go through the price subscriptions", () => {
    const { onText, sent, topics, pricesCalls } = setUp({ latestGrid: '{"type":"grid","grid":{}}' });
    onText('{"type":"subscribe","channel":"grid"}');
    onText('{"type":"subscribe","channel":"grid"}');
    expect(sent).toEqual([{ type: "subscribed", channel: "grid" }, '{"type":"grid","grid":{}}', { type: "subscribed", channel: "grid" }]);
    expect(topics.has("grid")).toBe(true);
    onText('{"type":"unsubscribe","channel":"grid"}');
    expect(topics.has("grid")).toBe(false);
    onText('{"type":"subscribe","channel":"prices"}');
    onText('{"type":"subscribe","channel":"prices"}');
    onText('{"type":"unsubscribe","channel":"prices"}');
    expect(pricesCalls).toEqual(["join", "leave"]);
    expect(sent.at(-1)).toEqual({ type: "unsubscribed", channel: "prices" });
  });

  test("an unknown channel is an unknown_channel error naming it; the connection stays", () => {
    const { onText, sent, closes } = setUp();
    onText('{"type":"subscribe","channel":"orders"}');
    expect(sent).toEqual([{ type: "error", code: "unknown_channel", message: 'no channel named "orders"', channel: "orders" }]);
    expect(closes).toEqual([]);
  });
});
