import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import type Redis from "ioredis";
import type { Logger } from "../common/log.ts";
import { metricsRoute, requestMetrics } from "../common/metrics/http.ts";
import { startProcessMetrics } from "../common/metrics/registry.ts";
import type { TickStore } from "../common/prices/tick-store.ts";
import type { BetPlacement } from "./bets/placement.ts";
import { countRefusals } from "./bets/refusal-metrics.ts";
import { betRoutes } from "./bets/routes.ts";
import type { GridService } from "./grid/grid-service.ts";
import { gridRoutes } from "./grid/routes.ts";
import { type DatabaseCheck, healthRoutes } from "./health/routes.ts";
import { leaderboardRoutes } from "./leaderboard/routes.ts";
import { httpFoundation } from "./http/foundation.ts";
import type { RateLimiter } from "./http/rate-limiter.ts";
import type { RequestLogger } from "./http/request-log.ts";
import { createRouteTable, type RouteTable } from "./http/route-table.ts";
import { openApiRoutes } from "./openapi/routes.ts";
import { playerRoutes } from "./players/routes.ts";
import { priceRoutes } from "./prices/routes.ts";
import { sessionRoutes } from "./sessions/routes.ts";
import type { FeedStatus } from "../common/contracts/health.ts";
import type { Store } from "./store/store.ts";
import type { SessionTokens } from "../common/sessions/token.ts";

/**
 * Everything the HTTP API is assembled from; api/main.ts builds each part.
 *
 * ```ts
 * const parts: AppParts = { log, logRequest, store, database: { name: "sqlite", check: () => checkSqlite(db) }, redis, ticks, tokens, placement, grid, sessionLimiter, recoveryLimiter, startingBalanceCents: 100_000, sessionTtlMs: 7 * 86_400_000, corsOrigins: ["http://localhost"] };
 * ```
 */
export interface AppParts {
  log: Logger;
  /** One line per request; `createRequestLogger` writes them cheaply. */
  logRequest: RequestLogger;
  /** Players, bets, nicknames, recovery codes and the leaderboard: SQLite or PostgreSQL (api/store/store.ts). */
  store: Store;
  /** The database's readiness check on `/readyz`. */
  database: DatabaseCheck;
  redis: Redis;
  ticks: Pick<TickStore, "latest" | "newestInRange">;
  tokens: SessionTokens;
  placement: BetPlacement;
  grid: GridService;
  sessionLimiter: RateLimiter;
  /** Keyed by client address: tries of recovery codes. */
  recoveryLimiter: RateLimiter;
  startingBalanceCents: number;
  sessionTtlMs: number;
  corsOrigins: string[];
  /** The price feed's counters, shown on `/readyz`; undefined until the feed starts. */
  feedStatus?: () => FeedStatus | undefined;
  /** `/readyz` is not ready while the last tick is older than this. */
  staleMs?: number;
  /** Mounts `/api/_test/panic` (throws) and `/api/_test/slow` (1.5 s): for the recovery and drain tests only. */
  testRoutes?: boolean;
}

/**
 * Assembles the HTTP API from its parts; no environment, no listening.
 *
 * ```ts
 * const app = createApp(parts);
 * await app.handle(new Request("http://api.test/healthz")); // 200 { status: "ok", component: "api" }
 * app.listen({ port: 8080 });
 * ```
 */
export function createApp(parts: AppParts) {
  const { log, logRequest, store, database, redis, ticks, corsOrigins, testRoutes = false } = parts;
  let routeTable: RouteTable | undefined;
  const routes: { method: string; path: string }[] = [];
  const allowedOrigins = new Set(corsOrigins);
  startProcessMetrics("api");
  const app = new Elysia({ normalize: false })
    .use(httpFoundation({ log, logRequest, routeTable: () => (routeTable ??= createRouteTable(routes)), onAnswered: requestMetrics() }))
    // GET /metrics outside /api/, so nginx never serves it (docs/metrics.md).
    .use(metricsRoute())
    .use(
      cors({
        // A set lookup, and a fixed methods string: this runs on every request.
        origin: (request: Request) => allowedOrigins.has(request.headers.get("origin") ?? ""),
        methods: "GET, POST, PUT, OPTIONS",
        allowedHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID"],
        exposeHeaders: ["X-Request-ID", "Retry-After"],
        maxAge: 600,
        credentials: false,
      }),
    )
    .use(healthRoutes({ database, redis, ...(parts.feedStatus ? { feed: parts.feedStatus } : {}), ...(parts.staleMs === undefined ? {} : { staleMs: parts.staleMs }) }))
    .use(priceRoutes({ ticks }))
    .use(gridRoutes({ grid: parts.grid }))
    .use(
      sessionRoutes({
        tokens: parts.tokens,
        players: store.players,
        startingBalanceCents: parts.startingBalanceCents,
        sessionTtlMs: parts.sessionTtlMs,
        sessionLimiter: parts.sessionLimiter,
        recoveryCodes: store.recoveryCodes,
        recoveryLimiter: parts.recoveryLimiter,
      }),
    )
    .use(playerRoutes({ tokens: parts.tokens, players: store.players, nicknames: store.nicknames }))
    .use(leaderboardRoutes({ leaderboard: store.leaderboard }))
    .use(betRoutes({ tokens: parts.tokens, placement: countRefusals(parts.placement), bets: store.bets }))
    // GET /api/openapi.json and /api/docs: every route's contract, generated from the schemas above.
    .use(openApiRoutes());
  if (testRoutes) {
    app
      .get("/api/_test/panic", () => {
        throw new Error("deliberate failure for the recovery test");
      })
      .get("/api/_test/slow", async () => {
        // The drain test sends SIGTERM once it reads this line: the request is then in flight.
        log.info("slow request started");
        await Bun.sleep(1500);
        return { status: "ok", component: "api" } as const;
      });
  }
  routes.push(...app.routes);
  return app;
}
