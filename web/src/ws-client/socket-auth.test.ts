import { expect, test } from "bun:test";
import type { OpenSocket } from "./connection.ts";
import { createSocketAuth } from "./socket-auth.ts";

/** A socket that records what is sent, current until `gone` is set. */
function socket() {
  const sent: string[] = [];
  const state = { gone: false };
  const open: OpenSocket = { send: (data) => void sent.push(data), isCurrent: () => !state.gone };
  return { open, sent, state };
}

test("sends the token once known, and a refusal names the token this socket sent", async () => {
  const refused: string[] = [];
  let token = "t1";
  const auth = createSocketAuth({ authToken: async () => token, onUnauthorized: (t) => void refused.push(t) });
  const first = socket();
  auth.opened(first.open);
  auth.refused(); // before the token went out: nothing to name
  expect(refused).toEqual([]);
  await Promise.resolve();
  expect(first.sent).toEqual(['{"type":"auth","token":"t1"}']);
  auth.refused();
  expect(refused).toEqual(["t1"]);

  token = "t2";
  const second = socket();
  auth.opened(second.open);
  auth.refused(); // the new socket has not proved anything yet
  expect(refused).toEqual(["t1"]);
  await Promise.resolve();
  expect(second.sent).toEqual(['{"type":"auth","token":"t2"}']);
});

test("a token that comes after its socket is gone is not sent, and a failed token is no error", async () => {
  const auth = createSocketAuth({ authToken: async () => "late", onUnauthorized: () => {} });
  const gone = socket();
  auth.opened(gone.open);
  gone.state.gone = true;
  await Promise.resolve();
  expect(gone.sent).toEqual([]);

  const down = createSocketAuth({ authToken: () => Promise.reject(new Error("API down")), onUnauthorized: () => {} });
  const next = socket();
  down.opened(next.open);
  await Promise.resolve();
  expect(next.sent).toEqual([]);
});
