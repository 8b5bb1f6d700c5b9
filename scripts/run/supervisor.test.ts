import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { anyFreePort } from "./ports.ts";
import { type RunLog, type ServiceSpec, superviseServices } from "./supervisor.ts";

const FAKE = join(import.meta.dir, "testdata", "fake-service.ts");

function fake(name: string, env: Record<string, string> = {}, healthUrl?: string): ServiceSpec {
  return {
    name,
    cmd: [process.execPath, FAKE],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", FAKE_NAME: name, ...env },
    ...(healthUrl ? { healthUrl } : {}),
  };
}

function recorder() {
  const records: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const lines: string[] = [];
  const log: RunLog = (level, msg, fields = {}) => void records.push({ level, msg, fields });
  const onLine = (name: string, line: string) => void lines.push(`${name}: ${line}`);
  return { records, lines, log, onLine, messages: () => records.map((r) => r.msg) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("superviseServices", () => {
  test("waits for health, then stops every child with SIGTERM and reports 0", async () => {
    const [a, b] = [await anyFreePort(), await anyFreePort()];
    const rec = recorder();
    const run = superviseServices(
      [
        fake("one", { FAKE_PORT: String(a) }, `http://127.0.0.1:${a}/healthz`),
        fake("two", { FAKE_PORT: String(b) }, `http://127.0.0.1:${b}/healthz`),
        fake("three"),
      ],
      { cwd: import.meta.dir, log: rec.log, onLine: rec.onLine },
    );
    expect(await run.ready).toBe(true);
    expect(rec.messages()).toContain("one is healthy");
    expect(rec.messages()).toContain("two is healthy");
    // "three" has no health check, so ready does not wait for it: let it start before stopping everyone.
    await waitUntil(() => rec.lines.includes("three: a plain stderr line"));
    run.stop("test");
    expect(await run.done).toBe(0);
    for (const child of run.children) expect(isAlive(child.pid)).toBe(false);
    expect(rec.lines.filter((line) => line.includes("got SIGTERM"))).toHaveLength(3);
    expect(rec.records.find((r) => r.msg === "one stopped")?.fields).toEqual({ code: 0 });
  });

  test("SIGKILLs a child that ignores SIGTERM once the stop timeout passes", async () => {
    const rec = recorder();
    const run = superviseServices([fake("stubborn", { FAKE_ON_TERM: "ignore" })], {
      cwd: import.meta.dir,
      log: rec.log,
      onLine: rec.onLine,
      stopTimeoutMs: 300,
    });
    expect(await run.ready).toBe(true);
    await waitUntil(() => rec.lines.some((line) => line.includes("listening")));
    run.stop("test");
    expect(await run.done).toBe(0);
    expect(rec.lines.some((line) => line.includes("ignoring SIGTERM"))).toBe(true);
    expect(rec.records.find((r) => r.msg === "stubborn stopped")?.fields).toEqual({ signal: "SIGKILL" });
  });

  test("a child that exits on its own stops the others and the run fails", async () => {
    const rec = recorder();
    const run = superviseServices([fake("steady"), fake("flaky", { FAKE_EXIT_AFTER_MS: "200" })], {
      cwd: import.meta.dir,
      log: rec.log,
      onLine: rec.onLine,
    });
    expect(await run.done).toBe(1);
    const crash = rec.records.find((r) => r.msg === "flaky exited unexpectedly");
    expect(crash).toMatchObject({ level: "error", fields: { code: 3 } });
    expect(rec.messages()).toContain("steady stopped");
    for (const child of run.children) expect(isAlive(child.pid)).toBe(false);
  });

  test("replace restarts one service with a new spec on the same port; the others keep running and the run still ends 0", async () => {
    const port = await anyFreePort();
    const rec = recorder();
    const run = superviseServices([fake("steady"), fake("swapped", { FAKE_PORT: String(port) })], {
      cwd: import.meta.dir,
      log: rec.log,
      onLine: rec.onLine,
    });
    await waitUntil(() => rec.lines.filter((line) => line.includes("listening")).length === 2);
    const [steady, first] = run.children;
    const second = await run.replace(fake("swapped", { FAKE_PORT: String(port) }));
    expect(second?.pid).not.toBe(first?.pid);
    expect(run.children.map((child) => child.pid)).toEqual([steady!.pid, second!.pid]);
    expect(isAlive(first!.pid)).toBe(false);
    expect(isAlive(steady!.pid)).toBe(true);
    // The new one took the port the old one gave up.
    await waitUntil(() => rec.lines.filter((line) => line.startsWith("swapped:") && line.includes("listening")).length === 2);
    expect(rec.lines.filter((line) => line.startsWith("swapped:") && line.includes(`"port":${port}`))).toHaveLength(2);
    expect(rec.records.some((r) => r.level === "error")).toBe(false);
    expect(rec.messages()).toContain("swapped stopped to be replaced");
    expect(run.stopping()).toBe(false);
    run.stop("test");
    expect(run.stopping()).toBe(true);
    expect(await run.done).toBe(0);
    for (const child of run.children) expect(isAlive(child.pid)).toBe(false);
    expect(await run.replace(fake("swapped"))).toBeUndefined();
  });

  test("a health URL that never answers fails the run after the ready timeout", async () => {
    const port = await anyFreePort();
    const rec = recorder();
    const run = superviseServices([fake("silent", {}, `http://127.0.0.1:${port}/healthz`)], {
      cwd: import.meta.dir,
      log: rec.log,
      onLine: rec.onLine,
      readyTimeoutMs: 300,
    });
    expect(await run.ready).toBe(false);
    expect(await run.done).toBe(1);
    expect(rec.records.some((r) => r.level === "error" && r.msg.startsWith("not healthy"))).toBe(true);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}
