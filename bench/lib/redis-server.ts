import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "../../test/support/ports.ts";
import { waitFor } from "../../test/support/wait.ts";

/** A private redis-server on a free 127.0.0.1 port, keeping nothing on disk. */
export interface BenchRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` (our services' REDIS_URL). */
  url: string;
  /** `127.0.0.1:<port>` (the Go peer's REDIS_ADDR). */
  addr: string;
  pid: number;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) on a free port and waits until it accepts connections.
 *
 * ```ts
 * await using redis = await startRedis();
 * ```
 */
export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-redis-"));
  const proc = Bun.spawn(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdout: "ignore", stderr: "inherit" },
  );
  const stop = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`redis-server on ${port}`, () => canConnect(port));
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, addr: `127.0.0.1:${port}`, pid: proc.pid, stop, [Symbol.asyncDispose]: stop };
}
