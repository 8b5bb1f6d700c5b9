import { createRedisBus } from "../common/bus/redis.ts";
import { configOrExit, redactRedisUrl } from "../common/config.ts";
import { createLogger, createStdoutSink } from "../common/log.ts";
import { urlPassword } from "../common/redact.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { closeRedis, createRedis } from "../common/redis.ts";
import { createApp } from "./app.ts";
import { createGroupCommitter } from "./bets/group-commit.ts";
import { createBetPlacement } from "./bets/placement.ts";
import { readApiConfig } from "./config.ts";
import { MIN_MULTIPLIER } from "./grid/build-grid.ts";
import { createGridService } from "./grid/grid-service.ts";
import { startGridPublisher } from "./grid/publisher.ts";
import { createRateLimiter } from "./http/rate-limiter.ts";
import { createRequestLogger } from "./http/request-log.ts";
import { createBetLifecycle } from "./lifecycle/bet-lifecycle.ts";
import { createMarket } from "./market/market.ts";
import { openApiStore } from "./store/open-store.ts";
import type { SettlerLease } from "./store/settler-lease.ts";
import { createSharedBetLifecycle } from "./lifecycle/shared-bet-lifecycle.ts";
import { startQuoting } from "./market/quoting.ts";
import type { MarketFeedStats } from "./market/feed.ts";
import { createSessionTokens } from "../common/sessions/token.ts";
import { runBackupCommand } from "./backup/command.ts";
import { type CommandIo, COMMANDS_USAGE, runReportCommand } from "./report/command.ts";
import { EXIT_USAGE } from "./report/usage-error.ts";

/** How long in-flight requests may take to finish at shutdown. */
const DRAIN_MS = 10_000;
/** How long the tick history stays in Redis: more than the start-up warm-up and any catch-up read back from it. */
const TICK_RETENTION_MS = 60 * 60 * 1000;
/** Bun's own body limit, above the API's 16 KiB, so an oversized body gets the error contract from our parser. */
const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/** Tries of a recovery code per client address and minute: a 100-bit code is not guessed at this pace. */
const RECOVERY_TRIES_PER_MIN = 5;

// `api <command> …` runs an operator's command and exits (docs/backups.md, docs/report.md);
// with no argument the binary is the API server, as its unit starts it.
if (process.argv.length > 2) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { env: process.env, now: Date.now, stdout: (text: string) => void out.push(text), stderr: (text: string) => void err.push(text) };
  const status = await runCommand(process.argv[2]!, process.argv.slice(3), io);
  // Written in full before the exit, even to a pipe.
  await Bun.write(Bun.stderr, err.join(""));
  await Bun.write(Bun.stdout, out.join(""));
  process.exit(status);
}

/** Runs `api backup` or `api report`; returns the exit status (a promise of it on PostgreSQL). */
function runCommand(command: string, argv: string[], io: CommandIo): number | Promise<number> {
  switch (command) {
    case "backup":
      return runBackupCommand(argv, io);
    case "report":
      return runReportCommand(argv, io);
    default:
      io.stderr(`api: unknown command ${JSON.stringify(command)}\n${COMMANDS_USAGE}`);
      return EXIT_USAGE;
  }
}

const config = configOrExit("api", () => readApiConfig(process.env));
const sink = createStdoutSink();
const log = createLogger({ component: "api", level: config.logLevel, sink, secrets: [config.sessionSecret, config.priceSigningKey, urlPassword(config.redisUrl)] });

const opened = await openApiStore(config, log);
// Commands of one event-loop turn in one socket write: every accepted bet is a
// PUBLISH, and a write each cost ~25 % of the API's CPU under load (bench/bets.ts).
const redis = createRedis(config.redisUrl, log, "commands", { autoPipelining: true });
const bus = createRedisBus({ publisher: redis, subscriber: createRedis(config.redisUrl, log, "subscriber") });
// With the price service's key, only ticks it signed are believed: by settlement, the grid and GET /api/price(s).
const signer = config.priceSigningKey ? createTickSigner(config.priceSigningKey) : undefined;
const ticks = createRedisTickStore(redis, { retentionMs: TICK_RETENTION_MS, ...(signer ? { believe: signer.verify } : {}) });

const market = createMarket({ sigmaFloor: config.sigmaFloor, staleMs: config.staleMs });
const grid = createGridService({
  market,
  settings: {
    columnMs: config.columnMs,
    bandCents: config.bandCents,
    columns: config.gridColumns,
    rowsEachSide: config.gridRowsEachSide,
    lockMs: config.lockMs,
    houseEdge: config.houseEdge,
    maxMultiplier: config.maxMultiplier,
    minRtp: config.minRtp,
    quoteHorizonMs: config.quoteHorizonMs,
    minMultiplier: MIN_MULTIPLIER,
  },
});
const { store } = opened;
const commits = createGroupCommitter(opened.placeBatch, { maxDelayMs: config.batchDelayMs, maxInFlight: opened.batchesInFlight });
const tokens = createSessionTokens(config.sessionSecret);
// Crash-only: what settlement knows is rebuilt from the database at the next start.
const onWriteFailed = (error: unknown) => {
  log.fatal({ err: (error as Error).message }, "a settlement could not be written: exiting so the restart rebuilds it from the database");
  process.exit(1);
};
const settlement = { staleMs: config.staleMs, graceMs: config.settleGraceMs, timeoutMs: config.settleTimeoutMs };
// SQLite: this process owns the writes and settles every bet it places. PostgreSQL: every node places, the lease holder settles.
const lifecycle = opened.bets
  ? createSharedBetLifecycle({ store: opened.settlement, source: opened.bets, bus, log, settlement, lockMs: config.lockMs, onWriteFailed })
  : createBetLifecycle({ store: opened.settlement, bus, log, limits: config, settlement, onWriteFailed });

// Started once the app exists (below); /readyz reads its counters.
let judging: { feed: { stats(): MarketFeedStats }; stop(): Promise<void> } | undefined;
const app = createApp({
  log,
  logRequest: createRequestLogger(sink, log.isLevelEnabled("info")),
  store,
  database: opened.database,
  redis,
  ticks,
  tokens,
  grid,
  placement: createBetPlacement({
    grid,
    exposure: lifecycle.exposure,
    bets: store.bets,
    commits,
    limiter: createRateLimiter({ rate: config.betsPerPlayerPerS }),
    minStakeCents: config.minStakeCents,
    maxStakeCents: config.maxStakeCents,
    onPlaced: lifecycle.placed,
  }),
  sessionLimiter: createRateLimiter({ rate: config.sessionsPerIpPerMin / 60, burst: config.sessionsPerIpPerMin }),
  recoveryLimiter: createRateLimiter({ rate: RECOVERY_TRIES_PER_MIN / 60, burst: RECOVERY_TRIES_PER_MIN }),
  startingBalanceCents: config.startingBalanceCents,
  sessionTtlMs: config.sessionTtlS * 1000,
  corsOrigins: config.corsOrigins,
  testRoutes: config.testRoutes,
  feedStatus: () => judging?.feed.stats(),
  staleMs: config.staleMs,
});

if (!signer) log.warn("no PRICE_SIGNING_KEY or PRICE_SIGNING_KEY_FILE: unsigned ticks are believed (development only)");
const feed = {
  market,
  history: ticks,
  ...(signer ? { signer } : {}),
  bounds: { maxSkewMs: config.tickMaxSkewMs, maxJump: config.priceMaxJump, staleMs: config.staleMs },
  onWriteFailed,
};
let startLine: Record<string, unknown> = {};
// The grid pushed to every websocket: from the one node that settles, so clients get one grid a second, not one per node.
let publisher: { stop(): void } | undefined;
/** PostgreSQL: stops the check of the settler lease at shutdown, before the lease is given back. */
let stopWatchingTheLease = () => {};
if ("startJudging" in lifecycle) {
  const { openBets, settling } = await lifecycle.load();
  judging = await lifecycle.startJudging(feed);
  publisher = startGridPublisher({ grid, bus, log });
  startLine = { open_bets: openBets, settling };
} else {
  // Every node quotes from the price feed; the lease holder's judging takes it over (settlement.ts takeover below).
  judging = startQuoting({ ...feed, bus, log });
  stopWatchingTheLease = startSettlingWithTheLease(opened.lease!, lifecycle);
}
app.listen({ hostname: config.host, port: config.port, maxRequestBodySize: MAX_REQUEST_BODY_BYTES });
log.info({ port: app.server?.port, host: config.host, store: opened.kind, db: opened.where, ...startLine, redis: redactRedisUrl(config.redisUrl) }, "api listening");

/**
 * PostgreSQL: this node settles once it holds the settler lease (at once when
 * no other node does, or within the lease's 3 s of the holder dying), and
 * stops the process when it loses it (crash-only: the restart waits as a standby).
 */
function startSettlingWithTheLease(lease: SettlerLease, shared: ReturnType<typeof createSharedBetLifecycle>): () => void {
  let settling = false;
  lease.start();
  const watch = setInterval(async () => {
    const held = lease.epoch() !== undefined;
    if (held && !settling) {
      settling = true;
      const quoting = judging;
      await quoting?.stop();
      const started = await shared.startSettling(feed);
      judging = started.judging;
      publisher = startGridPublisher({ grid, bus, log });
      log.info({ epoch: lease.epoch(), open_bets: started.openBets }, "settling on this node: it holds the settler lease");
    } else if (!held && settling) {
      clearInterval(watch);
      onWriteFailed(new Error("this node lost the settler lease"));
    }
  }, 100);
  return () => clearInterval(watch);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down: draining in-flight requests");
  publisher?.stop();
  const server = app.server;
  if (server) {
    const drained = await Promise.race([server.stop(false).then(() => true), Bun.sleep(DRAIN_MS).then(() => false)]);
    if (!drained) {
      log.warn({ drain_ms: DRAIN_MS }, "drain timed out: closing remaining connections");
      await server.stop(true);
    }
  }
  stopWatchingTheLease();
  await commits.flush();
  await judging?.stop().catch(() => {});
  await lifecycle.settled();
  await bus.close();
  await closeRedis(redis);
  await opened.close();
  log.info("stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
