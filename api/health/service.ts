import type { Database } from "bun:sqlite";
import type Redis from "ioredis";
import type { PgSql } from "../../common/store/postgres.ts";
import type { CheckResult, PriceCheck } from "../../common/contracts/health.ts";
import { withTimeout } from "../../common/timeout.ts";

async function timed(check: () => Promise<void> | void): Promise<CheckResult> {
  const started = performance.now();
  try {
    await check();
    return { ok: true, latency_ms: Math.round((performance.now() - started) * 1000) / 1000 };
  } catch (error) {
    return { ok: false, latency_ms: Math.round(performance.now() - started), error: (error as Error).message };
  }
}

/**
 * Writes a fresh token to SQLite and reads it back.
 *
 * ```ts
 * await checkSqlite(db); // e.g. { ok: true, latency_ms: 0.084 }
 * ```
 */
export function checkSqlite(db: Database): Promise<CheckResult> {
  return timed(() => {
    const token = crypto.randomUUID();
    db.query(
      "INSERT INTO health_probe (id, token, checked_at) VALUES (1, $token, $now) ON CONFLICT (id) DO UPDATE SET token = $token, checked_at = $now",
    ).run({ token, now: Date.now() });
    const row = db.query("SELECT token FROM health_probe WHERE id = 1").get() as { token: string } | null;
    if (row?.token !== token) throw new Error("read back a different token");
  });
}

/**
 * Writes a fresh token to PostgreSQL and reads it back, within `timeoutMs`.
 *
 * ```ts
 * await checkPostgres(sql); // e.g. { ok: true, latency_ms: 0.9 }
 * ```
 */
export function checkPostgres(sql: PgSql, timeoutMs = 1000): Promise<CheckResult> {
  return timed(async () => {
    const token = crypto.randomUUID();
    const [row] = await withTimeout(
      sql<{ token: string }[]>`
        INSERT INTO health_probe (id, token, checked_at) VALUES (1, ${token}, ${Date.now()})
        ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, checked_at = EXCLUDED.checked_at
        RETURNING token`,
      timeoutMs,
      "postgres round trip",
    );
    if (row?.token !== token) throw new Error("read back a different token");
  });
}

/**
 * Writes a short-lived key to Redis, reads it back and removes it.
 *
 * ```ts
 * await checkRedis(redis, 500); // e.g. { ok: true, latency_ms: 0.31 }, or { ok: false, latency_ms, error }
 * ```
 */
export function checkRedis(redis: Redis, timeoutMs = 1000): Promise<CheckResult> {
  return timed(async () => {
    const token = crypto.randomUUID();
    const key = `readyz:${token}`;
    const [, read] = await withTimeout(
      Promise.all([redis.set(key, token, "PX", 10_000), redis.get(key), redis.del(key)]),
      timeoutMs,
      "redis round trip",
    );
    if (read !== token) throw new Error("read back a different value");
  });
}

/**
 * A price the API may quote: the last judged tick at most `staleMs` old (none yet, or older: not ready).
 *
 * ```ts
 * checkPrice(1500, 5000); // { ok: true, age_ms: 1500 }
 * checkPrice(null, 5000); // { ok: false, age_ms: null, error: "no price yet" }
 * ```
 */
export function checkPrice(ageMs: number | null, staleMs: number): PriceCheck {
  if (ageMs === null) return { ok: false, age_ms: null, error: "no price yet" };
  return ageMs <= staleMs ? { ok: true, age_ms: ageMs } : { ok: false, age_ms: ageMs, error: `the last tick is ${ageMs} ms old (over ${staleMs} ms)` };
}
