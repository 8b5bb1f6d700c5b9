import type { Database } from "bun:sqlite";
import { Elysia } from "elysia";
import type Redis from "ioredis";
import { type FeedStatus, Health, Readiness } from "../../common/contracts/health.ts";
import { checkRedis, checkSqlite } from "./service.ts";

const HEALTH = { status: "ok", component: "api" } as const;

/**
 * Liveness (`/healthz`) and readiness (`/readyz`, a real round trip on SQLite and
 * Redis, with the price feed's counters: refused and forged ticks show there), also under `/api`.
 */
export function healthRoutes({ db, redis, feed }: { db: Database; redis: Redis; feed?: () => FeedStatus | undefined }) {
  const readiness = async ({ set }: { set: { status?: number | string } }) => {
    const [sqlite, redisCheck] = await Promise.all([checkSqlite(db), checkRedis(redis)]);
    const ready = sqlite.ok && redisCheck.ok;
    if (!ready) set.status = 503;
    const status = feed?.();
    return { status: ready ? "ready" : "unavailable", component: "api", checks: { sqlite, redis: redisCheck }, ...(status ? { feed: status } : {}) } as Readiness;
  };
  const readySchema = { response: { 200: Readiness, 503: Readiness } };
  return new Elysia({ name: "health" })
    .get("/healthz", () => HEALTH, { response: Health })
    .get("/api/healthz", () => HEALTH, { response: Health })
    .get("/readyz", readiness, readySchema)
    .get("/api/readyz", readiness, readySchema);
}
