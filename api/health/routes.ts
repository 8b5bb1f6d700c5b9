import type { Database } from "bun:sqlite";
import { Elysia } from "elysia";
import type Redis from "ioredis";
import { type FeedStatus, Health, Readiness } from "../../common/contracts/health.ts";
import { describeRoute } from "../openapi/operation.ts";
import { checkPrice, checkRedis, checkSqlite } from "./service.ts";

const HEALTH = { status: "ok", component: "api" } as const;

/**
 * Liveness (`/healthz`) and readiness (`/readyz`: a real round trip on SQLite and
 * Redis, and a price at most `staleMs` old, with the price feed's counters:
 * refused and forged ticks show there), also under `/api`.
 *
 * ```ts
 * new Elysia().use(healthRoutes({ db, redis, feed: () => judging.feed.stats(), staleMs: 5000 }));
 * ```
 */
export function healthRoutes({ db, redis, feed, staleMs }: { db: Database; redis: Redis; feed?: () => FeedStatus | undefined; staleMs?: number }) {
  const readiness = async ({ set }: { set: { status?: number | string } }) => {
    const [sqlite, redisCheck] = await Promise.all([checkSqlite(db), checkRedis(redis)]);
    const status = feed?.();
    const price = status && staleMs !== undefined ? checkPrice(status.last_tick_age_ms, staleMs) : undefined;
    const ready = sqlite.ok && redisCheck.ok && (price?.ok ?? true);
    if (!ready) set.status = 503;
    return {
      status: ready ? "ready" : "unavailable",
      component: "api",
      checks: { sqlite, redis: redisCheck, ...(price ? { price } : {}) },
      ...(status ? { feed: status } : {}),
    } as Readiness;
  };
  const readySchema = {
    response: { 200: Readiness, 503: Readiness },
    detail: describeRoute({
      summary: "Readiness",
      description: "A real write-and-read round trip on SQLite and on Redis, and a price at most STALE_MS old, with the price feed's counters; 503 with the same body when any check fails.",
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
