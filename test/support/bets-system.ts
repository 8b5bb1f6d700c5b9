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

/** Requests of a load that may fail outright (a reset connection) while the API runs on. */
const MAX_RESETS = 5;

/**
 * `clients` clients posting $0.50 bets to `api` until `stop`, each turning over the players and the
 * cells: `accepted` holds the ids of the bets answered 202, in the order they were answered. A
 * request that fails outright with the API gone (or more than MAX_RESETS times) stops the load, and
 * `failed` rejects saying so, with the API's exit status and last log lines: race a wait against it
 * (`load.guard(waitFor(…))`) so that such a test fails at once and explains itself.
 */
export function startBetLoad(api: RunningApi, players: readonly SessionCreated[], cells: readonly GridCell[], clients = 16) {
  const accepted: string[] = [];
  let running = true;
  let sent = 0;
  let resets = 0;
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // read through guard(); never an unhandled rejection
  const client = async (n: number) => {
    while (running) {
      const player = players[(n + sent++) % players.length]!;
      try {
        const response = await postBet(api.base, player.token, { amount: 0.5, cell: cellOf(cells[sent % cells.length]!) });
        if (response.status === 202) accepted.push(((await response.json()) as BetAccepted).bet_id);
        else await response.body?.cancel();
      } catch (error) {
        // A connection reset while the API runs on is the client's trouble, not the API's: counted, and the client goes on
        // (a bet it may have placed unanswered is one the test never relied on). The API gone ends the load.
        if (api.proc.exitCode === null && api.proc.signalCode === null && ++resets <= MAX_RESETS) continue;
        running = false;
        const exit = api.proc.exitCode ?? api.proc.signalCode ?? "still running";
        fail(new Error(`the bet load failed after ${accepted.length} accepted bets and ${resets} resets: ${String(error)}; the API: ${exit}; its last log lines:\n${api.lines.slice(-12).join("\n")}`));
      }
    }
  };
  const clientsDone = Array.from({ length: clients }, (_, n) => client(n));
  return {
    accepted,
    failed,
    /** Requests that failed outright while the API ran on. */
    get resets() {
      return resets;
    },
    /** `wait`, unless the load fails first. */
    guard: <T>(wait: Promise<T>): Promise<T> => Promise.race([wait, failed]),
    /** Stops the clients, once each has its last answer; rejects if the load failed. */
    async stop(): Promise<void> {
      running = false;
      await Promise.all(clientsDone);
      await Promise.race([failed, Promise.resolve()]);
    },
  };
}
