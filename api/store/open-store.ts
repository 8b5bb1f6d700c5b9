import { hostname } from "node:os";
import type { Logger } from "../../common/log.ts";
import { dbFilesystemMetrics } from "../../common/metrics/filesystem.ts";
import { redactUrl } from "../../common/redact.ts";
import { startCheckpointer } from "../../common/store/checkpointer.ts";
import { openPostgresStore } from "../../common/store/postgres.ts";
import { openStore } from "../../common/store/sqlite.ts";
import type { ApiConfig } from "../config.ts";
import { type BetOrder, createBetStore, type PlaceOutcome } from "../bets/bet-store.ts";
import type { DatabaseCheck } from "../health/routes.ts";
import { checkPostgres, checkSqlite } from "../health/service.ts";
import { createSettleStore, type Awaitable, type SettlementStore } from "../settlement/settle-store.ts";
import type { BetSource } from "../settlement/read-bets-first.ts";
import { createPgExposure } from "./pg-exposure.ts";
import { pgExposureMetrics } from "./pg-exposure-metrics.ts";
import { createNewBetReader } from "./pg-open-bets.ts";
import { createPostgresStore } from "./postgres-store.ts";
import { createSettlerLease, type SettlerLease } from "./settler-lease.ts";
import { createSqliteStore } from "./sqlite-store.ts";
import type { Store } from "./store.ts";

/**
 * The API's database, whichever it is: the `Store` the routes read through,
 * the group commit's batch write and settlement's writes (synchronous on
 * SQLite, as they always were: no promise in the hot path), the readiness
 * check, and, on PostgreSQL, the settler lease that lets one node of several
 * settle.
 *
 * ```ts
 * const opened = await openApiStore(config, log);
 * const commits = createGroupCommitter(opened.placeBatch, { maxInFlight: opened.batchesInFlight });
 * ```
 */
export interface ApiStore {
  kind: "sqlite" | "postgres";
  store: Store;
  placeBatch(orders: readonly BetOrder[]): Awaitable<PlaceOutcome[]>;
  /**
   * How many of `placeBatch`'s batches the group commit may have in flight:
   * 1 on SQLite (each is written within the call); on PostgreSQL the next
   * batch's first round trip then waits at the server for the locks the one
   * before holds, not in this process.
   */
  batchesInFlight: number;
  settlement: SettlementStore;
  database: DatabaseCheck;
  /** PostgreSQL only: settlement runs only while this node holds it, and every settlement write checks it. */
  lease?: SettlerLease;
  /** PostgreSQL only: the bets every node stores, read by the node that settles. */
  bets?: BetSource;
  /** Where the data is, for the start line: the SQLite path, or the URL without its password. */
  where: string;
  close(): Promise<void>;
}

/**
 * Opens SQLite at `DB_PATH`, or PostgreSQL at `DATABASE_URL` when set
 * (migrating either to the current schema).
 *
 * ```ts
 * const { store, placeBatch, settlement, database, close } = await openApiStore(config, log);
 * ```
 */
export async function openApiStore(config: ApiConfig, log: Logger): Promise<ApiStore> {
  const onDisagreement = (window: unknown) => log.warn({ window }, "the settlement book and the database disagree on a closing window; settled bet by bet");
  if (config.databaseUrl) return openPostgres(config, config.databaseUrl, log, onDisagreement);

  // This process owns the database's writes (docs/architecture.md).
  const db = openStore(config.dbPath, { sync: config.dbSync });
  // WAL checkpoints (and their fsyncs) run in a worker thread, never inside a request's commit.
  const checkpointer = startCheckpointer(db, config.dbPath, {
    onError: (message) => log.warn({ error: message }, "wal checkpoint failed"),
    // The writer's own catch-up holds this thread (and every request) for its duration: worth a line each time.
    onCheckpoint: (report) => {
      if (report.mode === "CATCH_UP") log.info({ wal_pages: report.walPages, checkpointed_pages: report.checkpointedPages, busy: report.busy, ms: Math.round(report.ms) }, "wal catch-up checkpoint on the writer");
    },
  });
  dbFilesystemMetrics(config.dbPath);
  return {
    kind: "sqlite",
    store: createSqliteStore(db, { secret: config.sessionSecret, leaderboardCacheMs: 1000, onDisagreement }),
    placeBatch: createBetStore(db).placeBatch,
    batchesInFlight: 1,
    settlement: createSettleStore(db, { onDisagreement }),
    database: { name: "sqlite", check: () => checkSqlite(db) },
    where: config.dbPath,
    async close() {
      await checkpointer.stop();
      db.close();
    },
  };
}

async function openPostgres(config: ApiConfig, url: string, log: Logger, onDisagreement: (window: unknown) => void): Promise<ApiStore> {
  const sql = await openPostgresStore(url, { applicationName: "tap-api" });
  // The lease renews on a connection of its own: behind a busy pool a renewal could wait past the lease's 3 s
  // (a loaded two-node bench run lost it so, and the node exited).
  const leaseSql = await openPostgresStore(url, { max: 1, applicationName: "tap-api-lease", migrations: [] });
  const holder = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const lease = createSettlerLease(leaseSql, {
    holder,
    onChange: (epoch) => log.info({ holder, epoch: epoch ?? null }, epoch === undefined ? "settler lease: not held" : "settler lease: held"),
    onError: (error) => log.warn({ holder, err: (error as Error).message }, "settler lease: the database did not answer"),
  });
  const store = createPostgresStore(sql, {
    secret: config.sessionSecret,
    leaderboardCacheMs: 1000,
    onDisagreement,
    fenceSettlement: (tx) => lease.fence(tx),
    exposure: createPgExposure(sql, {
      maxCellLiabilityCents: config.maxCellLiabilityCents,
      maxHouseLiabilityCents: config.maxHouseLiabilityCents,
      maxOpenBets: config.maxOpenBets,
      lockMs: config.lockMs,
    }),
  });
  // The house's exposure is the database's reservation, shared by every node: each exports the same figures.
  pgExposureMetrics(sql);
  return {
    kind: "postgres",
    store: store as Store,
    placeBatch: store.bets.placeBatch,
    batchesInFlight: config.pgBatchesInFlight,
    settlement: { ...store.settlement, ticks: store.ticks },
    database: { name: "postgres", check: () => checkPostgres(sql) },
    lease,
    bets: createNewBetReader(sql),
    where: redactUrl(url),
    async close() {
      await lease.stop();
      await lease.release().catch(() => {});
      await leaseSql.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
    },
  };
}
