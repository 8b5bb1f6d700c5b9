import { Elysia } from "elysia";
import type Redis from "ioredis";
import { type CheckResult, type FeedStatus, Health, Readiness } from "../../common/contracts/health.ts";
import { describeRoute } from "../openapi/operation.ts";
import { checkPrice, checkRedis } from "./service.ts";

const HEALTH = { status: "ok", component: "api" } as const;

/**
 * The store's readiness check, under its name in `/readyz`'s checks.
 *
 * ```ts
 * const database: DatabaseCheck = { name: "sqlite", check: () => checkSqlite(db) };
 * ```
 */
export interface DatabaseCheck {
  name: "sqlite" | "postgres";
  check(): Promise<CheckResult>;
}

/**
 * Liveness (`/healthz`) and readiness (`/readyz`: a real round trip on the
 * database (SQLite or PostgreSQL) and Redis, and a price at most `staleMs` old, with the price feed's counters:
 * refused and forged ticks show there), also under `/api`.
 *
 * ```ts
 * new Elysia().use(healthRoutes({ database: { name: "sqlite", check: () => checkSqlite(db) }, redis, feed: () => judging.feed.stats(), staleMs: 5000 }));
 * ```
 */
export function healthRoutes({ database, redis, feed, staleMs }: { database: DatabaseCheck; redis: Redis; feed?: () => FeedStatus | undefined; staleMs?: number }) {
  const readiness = async ({ set }: { set: { status?: number | string } }) => {
    const [store, redisCheck] = await Promise.all([database.check(), checkRedis(redis)]);
    const status = feed?.();
    const price = status && staleMs !== undefined ? checkPrice(status.last_tick_age_ms, staleMs) : undefined;
    const ready = store.ok && redisCheck.ok && (price?.ok ?? true);
    if (!ready) set.status = 503;
    return {
      status: ready ? "ready" : "unavailable",
      component: "api",
      checks: { [database.name]: store, redis: redisCheck, ...(price ? { price } : {}) },
      ...(status ? { feed: status } : {}),
    } as Readiness;
  };
  const readySchema = {
    response: { 200: Readiness, 503: Readiness },
    detail: describeRoute({
      summary: "Readiness",
      description: "A real write-and-read round trip on the database (SQLite or PostgreSQL, under its name) and on Redis, and a price at most STALE_MS old, with the price feed's counters; 503 with the same body when any check fails.",
      tags: ["health"],
    }),
  };
  const liveSchema = { response: Health, detail: describeRoute({ summary: "Liveness", description: "The process is up and answering.", tags: ["health"] }) };
  return new Elysia({ name: "health" })
    .get("/healthz", () => HEALTH, liveSchema)
    .get("/api/healthz", () => HEALTH, liveSchema)
    .get("/readyz", readiness, readySchema)
    .get("/api/readyz", readiness, readySchema);
}
