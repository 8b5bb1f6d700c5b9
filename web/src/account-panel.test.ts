import { expect, test } from "bun:test";
import { keepRestoredSession } from "./account-panel.ts";
import { recoverSession } from "./api-client.ts";
import { createSession, type KeyValueStore } from "./session.ts";

const memoryStore = (): KeyValueStore & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
};

test("a restored player is kept where the page's session reads it", async () => {
  const store = memoryStore();
  const created = { token: "t-restored", user_id: "p-kept", balance: 993, expires_at: 1 };
  expect(keepRestoredSession(store, created)).toBe(true);
  const session = createSession({ store, fetchImpl: async () => new Response("no", { status: 500 }) });
  expect(session.userId()).toBe("p-kept");
  expect(await session.token()).toBe("t-restored");
  expect(keepRestoredSession(undefined, created)).toBe(false);
});

test("recoverSession sends the code trimmed, and says plainly when it is wrong or used", async () => {
  const sent: string[] = [];
  const created = { token: "t", user_id: "p", balance: 1, expires_at: 1 };
  const ok = await recoverSession(" 7K3M-Q9XA ", async (_url, init) => {
    sent.push(String(init?.body));
    return new Response(JSON.stringify(created), { status: 201 });
  });
  expect(ok).toEqual(created);
  expect(sent).toEqual([JSON.stringify({ code: "7K3M-Q9XA" })]);
  expect(recoverSession("X", async () => new Response("{}", { status: 401 }))).rejects.toThrow("that code is wrong or already used");
});
