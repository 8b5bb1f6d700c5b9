import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/** A private redis-server on a free port, so tests never touch data they did not create. */
export interface TestRedis {
  url: string;
  port: number;
  /** Kills the server and starts it again on the same port (empty: it keeps nothing). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tap-redis-"));
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  const launch = async () => {
    proc = Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdout: "ignore", stderr: "inherit" },
    );
    await waitFor(`redis-server on ${port}`, () => canConnect(port));
  };
  const kill = async () => {
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
    proc = undefined;
  };
  await launch();

  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs = 500) {
      await kill();
      await Bun.sleep(downMs);
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
