import { expect, test } from "bun:test";
import { WsCloseCode } from "../common/contracts/ws.ts";
import { waitFor } from "../test/support/wait.ts";
import { OPEN, type Socket } from "./connection.ts";
import { startSweep } from "./sweep.ts";
import type { UnackedBytes } from "./unacked-bytes.ts";

function fakeSocket(name: string, { expiresAt = Number.POSITIVE_INFINITY, readyState = OPEN } = {}) {
  const closes: [number, string][] = [];
  const ws = { name, readyState, data: { expiresAt, pingedAt: 300_000, acked: 100_000, closedBy: null }, close: (code: number, reason: string) => void closes.push([code, reason]) };
  return { ws: ws as unknown as Socket, closes };
}

test("an expired session gets session_expired then 4002; a slow reader slow_consumer then 4003; a closing socket is left alone", async () => {
  const expired = fakeSocket("expired", { expiresAt: Date.now() - 1 });
  const slow = fakeSocket("slow");
  const fine = fakeSocket("fine");
  const closing = fakeSocket("closing", { expiresAt: 0, readyState: 2 });
  const sent: [string, unknown][] = [];
  const counted = { slow: 0, expired: 0 };
  const acks = { check: (ws: Socket) => (ws as unknown as { name: string }).name === "slow" } as unknown as UnackedBytes;
  const sweep = startSweep({
    sockets: [expired.ws, slow.ws, fine.ws, closing.ws],
    everyMs: 5,
    acks,
    graceMs: 3000,
    send: (ws, message) => void sent.push([(ws as unknown as { name: string }).name, message]),
    onSlow: () => counted.slow++,
    onExpired: () => counted.expired++,
  });
  try {
    await waitFor("a sweep", () => counted.slow > 0 && counted.expired > 0);
  } finally {
    sweep.stop();
  }
  expect(expired.closes[0]).toEqual([WsCloseCode.sessionExpired, "session expired"]);
  expect(expired.ws.data.closedBy).toBe("session expired");
  expect(slow.closes[0]).toEqual([WsCloseCode.slowConsumer, "not reading: 200000 bytes behind"]);
  expect(slow.ws.data.closedBy).toBe("slow reader");
  expect(sent.find(([name]) => name === "expired")?.[1]).toMatchObject({ type: "error", code: "session_expired" });
  expect(sent.find(([name]) => name === "slow")?.[1]).toEqual({ type: "error", code: "slow_consumer", message: "200000 bytes sent and not read for over 3000 ms" });
  expect(fine.closes).toEqual([]);
  expect(closing.closes).toEqual([]);
});
