import { mkdirSync } from "node:fs";
import { type Child, spawnChild } from "./child.ts";

export interface LocalRedis {
  url: string;
  port: number;
  child: Child;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it is gone. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartLocalRedisOptions {
  port: number;
  /** Its working folder; it writes nothing there (no RDB, no AOF). */
  dir: string;
  onLine(name: string, line: string): void;
  readyTimeoutMs?: number;
}

/**
 * A throwaway redis-server on 127.0.0.1:`port` that keeps nothing on disk, for
 * `make run` when no `REDIS_URL` is given. Throws if it does not answer PING in time.
 *
 * ```ts
 * const redis = await startLocalRedis({ port: 6390, dir: ".run/redis", onLine: print });
 * await redis.stop();
 * ```
 */
export async function startLocalRedis({ port, dir, onLine, readyTimeoutMs = 10_000 }: StartLocalRedisOptions): Promise<LocalRedis> {
  mkdirSync(dir, { recursive: true });
  const cmd = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"];
  const child = spawnChild({ name: "redis", cmd, cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, onLine });
  const stop = async (timeoutMs = 5000) => {
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await child.exited;
    clearTimeout(killer);
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answersPing(port))) {
    if (!child.running()) {
      const { code, signal } = await child.exited;
      throw new Error(`redis-server exited at start (code ${code}, signal ${signal})`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} within ${readyTimeoutMs} ms`);
    }
    await Bun.sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, port, child, stop };
}

/** True when a Redis server on 127.0.0.1:`port` replies +PONG. */
export async function answersPing(port: number, timeoutMs = 1000): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => resolve(false), timeoutMs);
  try {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.write("PING\r\n"),
        data: (s, data) => {
          resolve(data.toString().startsWith("+PONG"));
          s.end();
        },
        close: () => resolve(false),
        error: () => resolve(false),
        connectError: () => resolve(false),
      },
    });
    const result = await promise;
    socket.end();
    return result;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
