import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { ErrorBody } from "../common/contracts/error.ts";
import type { RecoveryCodeCreated } from "../common/contracts/recovery.ts";
import type { Me, SessionCreated } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet, randomAddress } from "./support/api-client.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

let redis: TestRedis;
let pump: TickPump;
let api: RunningApi;
let base: string;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  pump = await startTickPump(redis.url, 42_000, 100);
  dir = mkdtempSync(join(tmpdir(), "tap-recovery-"));
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db") }, { grid: true });
  base = api.base;
});

afterAll(async () => {
  await pump?.stop();
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const newCode = (token: string) => fetch(`${base}/api/recovery-code`, { method: "POST", headers: authed(token) });

const recover = (code: unknown, address = randomAddress()) =>
  fetch(`${base}/api/session/recover`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-real-ip": address },
    body: JSON.stringify({ code }),
  });

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as ErrorBody).error.code;
}

async function me(token: string): Promise<Me> {
  const response = await fetch(`${base}/api/me`, { headers: authed(token) });
  expect(response.status).toBe(200);
  return (await response.json()) as Me;
}

describe("recovery codes", () => {
  test("a code is shown once and restores the same player, balance and all, elsewhere; used, it is refused", async () => {
    const first = await newSession(base);
    const bet = await postBet(base, first.token, { amount: 2.5, cell: cellOf(openCell(await getGrid(base))) });
    expect(bet.status).toBe(202);
    expect(((await bet.json()) as BetAccepted).balance).toBe(997.5);

    const made = await newCode(first.token);
    expect(made.status).toBe(201);
    expect(made.headers.get("cache-control")).toBe("no-store");
    const { code, created_at } = (await made.json()) as RecoveryCodeCreated;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(Math.abs(created_at - Date.now())).toBeLessThan(10_000);

    // Another browser: another address, no token.
    const restored = await recover(code.toLowerCase());
    expect(restored.status).toBe(201);
    const session = (await restored.json()) as SessionCreated;
    expect(session).toMatchObject({ user_id: first.user_id, balance: 997.5 });
    expect(session.expires_at).toBeGreaterThan(Date.now());
    expect(await me(session.token)).toMatchObject({ user_id: first.user_id, balance: 997.5, open_bets: 1 });
    // The first browser's session still works too.
    expect((await me(first.token)).user_id).toBe(first.user_id);

    const reused = await recover(code);
    expect(reused.status).toBe(401);
    expect(await errorCode(reused)).toBe("unauthorized");
  });

  test("a wrong code is 401 with the error contract", async () => {
    const player = await newSession(base);
    const { code } = (await (await newCode(player.token)).json()) as RecoveryCodeCreated;
    const wrong = code.slice(0, -1) + (code.endsWith("0") ? "1" : "0");
    const response = await recover(wrong);
    expect(response.status).toBe(401);
    const body = (await response.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: "unauthorized", details: [] });
    expect(body.error.request_id).toBeString();
    // The wrong try did not use the right code up.
    expect((await recover(code)).status).toBe(201);
  });

  test("a new code replaces the one before", async () => {
    const player = await newSession(base);
    const older = ((await (await newCode(player.token)).json()) as RecoveryCodeCreated).code;
    const newer = ((await (await newCode(player.token)).json()) as RecoveryCodeCreated).code;
    expect(newer).not.toBe(older);
    expect((await recover(older)).status).toBe(401);
    expect((await recover(newer)).status).toBe(201);
  });

  test("making a code needs a session; a recovery needs a code", async () => {
    const anonymous = await fetch(`${base}/api/recovery-code`, { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe("unauthorized");
    for (const code of ["", 42, "x".repeat(65)]) {
      const response = await recover(code);
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe("validation_failed");
    }
  });

  test("brute force is limited: the 6th rapid try from one address is 429, even with the right code", async () => {
    const player = await newSession(base);
    const { code } = (await (await newCode(player.token)).json()) as RecoveryCodeCreated;
    const attacker = randomAddress();
    for (let i = 0; i < 5; i++) expect((await recover(`WRONG-CODE-${i}`, attacker)).status).toBe(401);
    const limited = await recover(code, attacker);
    expect(limited.status).toBe(429);
    expect(await errorCode(limited)).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The refused try did not use the code up; another address is not held back.
    const elsewhere = await recover(code, randomAddress());
    expect(elsewhere.status).toBe(201);
    expect(((await elsewhere.json()) as SessionCreated).user_id).toBe(player.user_id);
  });
});
