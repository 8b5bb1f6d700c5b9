import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answersPing, startLocalRedis } from "./local-redis.ts";
import { anyFreePort } from "./ports.ts";

test("starts a redis-server that answers PING, keeps nothing on disk, and stops", async () => {
  const dir = mkdtempSync(join(tmpdir(), "run-redis-"));
  try {
    const port = await anyFreePort();
    const lines: string[] = [];
    const redis = await startLocalRedis({ port, dir, onLine: (_name, line) => lines.push(line) });
    expect(redis.url).toBe(`redis://127.0.0.1:${port}`);
    expect(await answersPing(port)).toBe(true);
    await redis.stop();
    expect(redis.child.running()).toBe(false);
    expect(await answersPing(port)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fails clearly when the port is taken", async () => {
  const dir = mkdtempSync(join(tmpdir(), "run-redis-"));
  using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  try {
    const lines: string[] = [];
    await expect(startLocalRedis({ port: server.port ?? 0, dir, onLine: (_name, line) => lines.push(line) })).rejects.toThrow(
      /redis-server exited at start|did not answer PING/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("answersPing is false where nothing listens", async () => {
  expect(await answersPing(await anyFreePort())).toBe(false);
});
