import { describe, expect, test } from "bun:test";
import { createSession, type KeyValueStore, SessionError } from "./session.ts";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

/** A fake API: sessions t1, t2, …; `valid` says which tokens /api/me accepts. */
function fakeApi(valid: (token: string) => boolean = () => true) {
  const calls: { url: string; auth: string | null }[] = [];
  let made = 0;
  const fetchImpl = async (url: string, init?: RequestInit) => {
    const auth = new Headers(init?.headers).get("authorization");
    calls.push({ url, auth });
    if (url === "/api/session") {
      made++;
      return json(201, { token: `t${made}`, user_id: `p${made}`, balance: 1000, expires_at: 0 });
    }
    const token = auth?.replace(/^Bearer /, "") ?? "";
    return valid(token) ? json(200, { ok: true }) : json(401, { error: { code: "unauthorized", message: "no", details: [], request_id: "r" } });
  };
  return { calls, fetchImpl, made: () => made };
}

describe("guest session", () => {
  test("a first visit makes one session (even for requests at once), keeps it, and sends it as a bearer token", async () => {
    const store = memoryStore();
    const api = fakeApi();
    const session = createSession({ store, fetchImpl: api.fetchImpl });
    await Promise.all([session.fetch("/api/me"), session.fetch("/api/bets")]);
    expect(api.made()).toBe(1);
    expect(api.calls.filter((c) => c.url !== "/api/session").map((c) => c.auth)).toEqual(["Bearer t1", "Bearer t1"]);
    expect(JSON.parse(store.data.get("tap-trading.session")!)).toEqual({ token: "t1", user_id: "p1" });
    expect(session.userId()).toBe("p1");

    // The next page load uses the kept one.
    const again = createSession({ store, fetchImpl: api.fetchImpl });
    await again.fetch("/api/me");
    expect(api.made()).toBe(1);
  });

  test("a 401 drops the session, makes a new one and sends once more, and only once", async () => {
    const store = memoryStore();
    store.setItem("tap-trading.session", JSON.stringify({ token: "expired", user_id: "old" }));
    const api = fakeApi((token) => token !== "expired");
    const session = createSession({ store, fetchImpl: api.fetchImpl });
    expect((await session.fetch("/api/me")).status).toBe(200);
    expect(api.calls.map((c) => `${c.url} ${c.auth}`)).toEqual(["/api/me Bearer expired", "/api/session null", "/api/me Bearer t1"]);
    expect(session.userId()).toBe("p1");

    const never = fakeApi(() => false);
    const refused = createSession({ store: memoryStore(), fetchImpl: never.fetchImpl });
    expect((await refused.fetch("/api/me")).status).toBe(401);
    expect(never.made()).toBe(2);
  });

  test("works without storage, and a refused session creation throws SessionError with the answer", async () => {
    const blocked: KeyValueStore = {
      getItem: () => {
        throw new Error("blocked");
      },
      setItem: () => {
        throw new Error("blocked");
      },
    };
    const api = fakeApi();
    expect((await createSession({ store: blocked, fetchImpl: api.fetchImpl }).fetch("/api/me")).status).toBe(200);
    const limited = createSession({ store: undefined, fetchImpl: async () => json(429, { error: { code: "rate_limited", message: "slow", details: [], request_id: "r" } }) });
    const error = await limited.fetch("/api/me").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).response.status).toBe(429);
  });

  test("token() makes the session if needed; renew() replaces a refused token once, however many ask", async () => {
    const store = memoryStore();
    const api = fakeApi();
    const session = createSession({ store, fetchImpl: api.fetchImpl });
    expect(await session.token()).toBe("t1");
    expect(await session.token()).toBe("t1");
    expect(await Promise.all([session.renew("t1"), session.renew("t1")])).toEqual(["t2", "t2"]);
    expect(api.made()).toBe(2);
    // A stale refusal (of a token already replaced) keeps the current one.
    expect(await session.renew("t1")).toBe("t2");
    expect(JSON.parse(store.data.get("tap-trading.session")!)).toEqual({ token: "t2", user_id: "p2" });
  });
});
