import type { BetAccepted } from "../../common/contracts/bet.ts";
import type { GridCell } from "../../common/contracts/grid.ts";
import type { SessionCreated } from "../../common/contracts/session.ts";
import { cellOf, postBet } from "./api-client.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";
import { type RunningApi, startApi } from "./service.ts";
import { startTickPump, type TickPump } from "./tick-pump.ts";

/**
 * One system that takes bets as fast as a test sends them: a Redis of its own, a tick pump at a
 * steady price and an API on the store `storeEnv` names (DB_PATH or DATABASE_URL, with any
 * setting of the test's), its limits wide open. Each part's stop goes onto `cleanups`.
 */
export async function startBetsSystem(
  storeEnv: Record<string, string>,
  secret: string,
  cleanups: (() => Promise<unknown>)[],
): Promise<{ redis: TestRedis; pump: TickPump; api: RunningApi }> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const pump = await startTickPump(redis.url, 42_000);
  cleanups.push(() => pump.stop());
  const api = await startApi(
    {
      REDIS_URL: redis.url,
      ...storeEnv,
      SESSION_SECRET: secret,
      MAX_OPEN_BETS: "100000",
      BETS_PER_PLAYER_PER_S: "100000",
      SESSIONS_PER_IP_PER_MIN: "100000",
      LOG_LEVEL: "warn",
    },
    { grid: true },
  );
  cleanups.push(() => api.stop("SIGKILL"));
  return { redis, pump, api };
}

/**
 * `clients` clients posting $0.50 bets to `base` until `stop`, each turning over the players and
 * the cells: `accepted` holds the ids of the bets answered 202, in the order they were answered.
 */
export function startBetLoad(base: string, players: readonly SessionCreated[], cells: readonly GridCell[], clients = 16) {
  const accepted: string[] = [];
  let running = true;
  let sent = 0;
  const client = async (n: number) => {
    while (running) {
      const player = players[(n + sent++) % players.length]!;
      const response = await postBet(base, player.token, { amount: 0.5, cell: cellOf(cells[sent % cells.length]!) });
      if (response.status === 202) accepted.push(((await response.json()) as BetAccepted).bet_id);
      else await response.body?.cancel();
    }
  };
  const clientsDone = Array.from({ length: clients }, (_, n) => client(n));
  return {
    accepted,
    /** Stops the clients, once each has its last answer. */
    async stop(): Promise<void> {
      running = false;
      await Promise.all(clientsDone);
    },
  };
}
