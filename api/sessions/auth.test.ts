import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createLogger } from "../../common/log.ts";
import { createSessionTokens, type SessionClaims, type SessionTokens } from "../../common/sessions/token.ts";
import { httpFoundation } from "../http/foundation.ts";
import { createRouteTable } from "../http/route-table.ts";
import { bearerAuth, VERIFIED_CACHE_SIZE } from "./auth.ts";

const SECRET = "auth-test-secret-0123456789abcdef-0123";

/** Real tokens whose `verify` calls are counted, so a test can tell a cache hit from an HMAC check. */
function countingTokens(): SessionTokens & { verified: number } {
  const real = createSessionTokens(SECRET);
  const tokens = {
    verified: 0,
    sign: real.sign,
    verify(token: string, now: number): SessionClaims | undefined {
      tokens.verified++;
      return real.verify(token, now);
    },
  };
  return tokens;
}

/** An app behind `bearerAuth` on a clock the test moves; `GET /whoami` answers the player the token names. */
function guardedApp(tokens: SessionTokens) {
  const clock = { now: 1_700_000_000_000 };
  const log = createLogger({ component: "api", level: "fatal", sink: { write: () => {} } });
  const routes: { method: string; path: string }[] = [];
  const app = new Elysia()
    .use(httpFoundation({ log, logRequest: () => {}, routeTable: () => createRouteTable(routes) }))
    .use(bearerAuth({ tokens, now: () => clock.now }))
    .post("/whoami", ({ playerId }) => ({ playerId }));
  routes.push(...app.routes);
  const call = (authorization?: string, body: unknown = {}) =>
    app.handle(
      new Request("http://api.test/whoami", {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify(body),
      }),
    );
  return { clock, call };
}

async function expectUnauthorized(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe('Bearer realm="tap-trading"');
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
}

describe("bearerAuth", () => {
  test("a valid token names the player; a playerId in the body is ignored", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const token = tokens.sign({ sub: "p_alice", exp: clock.now + 60_000 });
    const response = await call(`Bearer ${token}`, { playerId: "p_mallory" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ playerId: "p_alice" });
  });

  test("the scheme is case-insensitive", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const token = tokens.sign({ sub: "p_alice", exp: clock.now + 60_000 });
    expect((await call(`bearer ${token}`)).status).toBe(200);
  });

  test("no Authorization header is 401 with a Bearer challenge", async () => {
    await expectUnauthorized(await guardedApp(countingTokens()).call());
  });

  test("another scheme, a second word or a token over 512 characters is 401 without an HMAC check", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const token = tokens.sign({ sub: "p_alice", exp: clock.now + 60_000 });
    for (const header of [`Basic ${token}`, `Bearer ${token} extra`, `Bearer ${"a".repeat(513)}`, "Bearer "]) {
      await expectUnauthorized(await call(header));
    }
    expect(tokens.verified).toBe(0);
  });

  test("a token signed with another secret, or altered, is 401", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const foreign = createSessionTokens("another-secret-0123456789abcdef-0123456").sign({ sub: "p_alice", exp: clock.now + 60_000 });
    await expectUnauthorized(await call(`Bearer ${foreign}`));
    const token = tokens.sign({ sub: "p_alice", exp: clock.now + 60_000 });
    // A character inside the signature: every bit of it counts (unlike the last one's low bits).
    const at = token.indexOf(".") + 1;
    const altered = `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
    await expectUnauthorized(await call(`Bearer ${altered}`));
  });

  test("a token already expired when first seen is 401", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    await expectUnauthorized(await call(`Bearer ${tokens.sign({ sub: "p_alice", exp: clock.now })}`));
  });

  test("a token accepted before is refused from its expiry on, though remembered as verified", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const exp = clock.now + 60_000;
    const token = tokens.sign({ sub: "p_alice", exp });
    expect((await call(`Bearer ${token}`)).status).toBe(200);
    clock.now = exp - 1;
    expect((await call(`Bearer ${token}`)).status).toBe(200);
    clock.now = exp;
    await expectUnauthorized(await call(`Bearer ${token}`));
    clock.now = exp + 3_600_000;
    await expectUnauthorized(await call(`Bearer ${token}`));
  });

  test("a token accepted once is not checked by HMAC again", async () => {
    const tokens = countingTokens();
    const { clock, call } = guardedApp(tokens);
    const token = tokens.sign({ sub: "p_alice", exp: clock.now + 60_000 });
    for (let i = 0; i < 3; i++) expect((await call(`Bearer ${token}`)).status).toBe(200);
    expect(tokens.verified).toBe(1);
  });

  test("a refused token is not remembered: it is checked again each time", async () => {
    const tokens = countingTokens();
    const { call } = guardedApp(tokens);
    const forged = createSessionTokens("another-secret-0123456789abcdef-0123456").sign({ sub: "p_alice", exp: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < 2; i++) await expectUnauthorized(await call(`Bearer ${forged}`));
    expect(tokens.verified).toBe(2);
  });

  test(`at most ${VERIFIED_CACHE_SIZE} tokens are remembered: past that the oldest is checked again`, async () => {
    // A fake whose every token is valid: the cache's bound, not HMAC, is under test.
    let verified = 0;
    const tokens: SessionTokens = {
      sign: () => "",
      verify: (token) => (verified++, { sub: token, exp: Number.MAX_SAFE_INTEGER }),
    };
    const { call } = guardedApp(tokens);
    for (let i = 0; i < VERIFIED_CACHE_SIZE; i++) await call(`Bearer t${i}`);
    expect(verified).toBe(VERIFIED_CACHE_SIZE);
    await call("Bearer t0"); // still remembered
    expect(verified).toBe(VERIFIED_CACHE_SIZE);
    await call(`Bearer t${VERIFIED_CACHE_SIZE}`); // one more evicts the oldest, t0
    await call("Bearer t1"); // still remembered
    expect(verified).toBe(VERIFIED_CACHE_SIZE + 1);
    await call("Bearer t0");
    expect(verified).toBe(VERIFIED_CACHE_SIZE + 2);
  });
});
