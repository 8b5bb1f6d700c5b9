import Redis from "ioredis";

/** What a `SubscriberKiller` did. */
export interface SubscriberKills {
  /** `CLIENT KILL`s that killed a connection. */
  kills: number;
  /** Rounds that found no pub/sub client to kill (it was still reconnecting). */
  missed: number;
  /** Rounds that failed (Redis away, say). */
  failed: number;
  /** The names of the connections killed, with how often. */
  names: Record<string, number>;
}

export interface SubscriberKiller {
  /** Stops killing and says what was done. */
  stop(): Promise<SubscriberKills>;
}

/**
 * Kills every pub/sub client of the Redis at `url` (`CLIENT LIST TYPE pubsub`, then
 * `CLIENT KILL ID`) at random moments `minMs`..`maxMs` apart, from an admin connection
 * of its own (not a subscriber, so never its own victim). Only subscribers are hit:
 * publishers and command connections are left alone.
 *
 * ```ts
 * const killer = startSubscriberKiller(redis.url, { minMs: 200, maxMs: 800 });
 * // ... load ...
 * const { kills } = await killer.stop();
 * ```
 */
export function startSubscriberKiller(url: string, { minMs = 200, maxMs = 800, random = Math.random }: { minMs?: number; maxMs?: number; random?: () => number } = {}): SubscriberKiller {
  // Fail fast while Redis is away (a restart) instead of queueing: the next round tries again.
  const admin = new Redis(url, { connectionName: "test:killer", maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  admin.on("error", () => {});
  const result: SubscriberKills = { kills: 0, missed: 0, failed: 0, names: {} };
  let stopped = false;
  let wake: (() => void) | undefined;

  const round = async () => {
    const list = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
    const clients = list
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? "" }));
    if (clients.length === 0) result.missed++;
    for (const { id, name } of clients) {
      if (!id) continue;
      if (Number(await admin.call("CLIENT", "KILL", "ID", id)) === 1) {
        result.kills++;
        result.names[name] = (result.names[name] ?? 0) + 1;
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      // Pacing, not waiting for a condition: the kills must land at random moments between ticks.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, minMs + random() * (maxMs - minMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      try {
        await round();
      } catch {
        result.failed++;
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      admin.disconnect();
      return result;
    },
  };
}
