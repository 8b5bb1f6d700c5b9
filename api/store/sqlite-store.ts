import type { Database } from "bun:sqlite";
import { createBetStore } from "../bets/bet-store.ts";
import { createLeaderboard } from "../leaderboard/leaderboard.ts";
import { createNicknames } from "../players/nicknames.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createRecoveryCodes } from "../players/recovery-codes.ts";
import { createSettleStore } from "../settlement/settle-store.ts";
import type { Store, StoreOptions } from "./store.ts";

/**
 * The store on SQLite: today's modules (api/bets, api/players, api/settlement,
 * api/leaderboard) behind the async `Store` seam, unchanged. Each call runs
 * synchronously and its promise is already settled; a thrown error becomes a
 * rejection. The caller keeps owning `db` (and closes it).
 *
 * ```ts
 * const store = createSqliteStore(openStore("/data/bets.db"), { secret: config.sessionSecret });
 * await store.players.balance("p1");
 * ```
 */
export function createSqliteStore(db: Database, { secret, leaderboardCacheMs = 1000, onDisagreement }: StoreOptions): Store {
  const players = createPlayerStore(db);
  const nicknames = createNicknames(db);
  const recoveryCodes = createRecoveryCodes(db, { secret });
  const bets = createBetStore(db);
  const settle = createSettleStore(db, onDisagreement ? { onDisagreement } : {});
  const leaderboard = createLeaderboard(db, { cacheMs: leaderboardCacheMs });
  // An async function turns a synchronous throw into a rejected promise, as PostgreSQL's errors arrive.
  const now = <A extends unknown[], R>(fn: (...args: A) => R) => async (...args: A): Promise<R> => fn(...args);
  return {
    kind: "sqlite",
    players: {
      create: now(players.create),
      balance: now(players.balance),
      exposure: now(players.exposure),
      totals: now(players.totals),
    },
    nicknames: { set: now(nicknames.set), get: now(nicknames.get) },
    recoveryCodes: { issue: now(recoveryCodes.issue), redeem: now(recoveryCodes.redeem) },
    bets: {
      placeBatch: now(bets.placeBatch),
      byIdempotencyKey: now(bets.byIdempotencyKey),
      get: now(bets.get),
      page: now(bets.page),
    },
    settlement: {
      settle: now(settle.settle),
      openBets: now(settle.openBets),
      oldestOpenStart: now(settle.oldestOpenStart),
    },
    ticks: { append: now(settle.ticks.append), last: now(settle.ticks.last), range: now(settle.ticks.range) },
    leaderboard: { read: now(leaderboard.read) },
  };
}
