import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metricsRegistry, metricsText } from "../metrics/registry.ts";
import { type CheckpointReport, startCheckpointer } from "./checkpointer.ts";
import { openStore } from "./sqlite.ts";

const dirs: string[] = [];
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "tap-checkpointer-"));
  dirs.push(dir);
  return join(dir, "bets.db");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const rowsTable = [{ version: 1, name: "rows", sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" }];
const walSize = (path: string) => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe("startCheckpointer", () => {
  test("switches the writer's automatic checkpoint off while it runs, and back on when it stops", async () => {
    const path = tempDbPath();
    const db = openStore(path);
    const checkpointer = startCheckpointer(db, path, { intervalMs: 20 });
    await checkpointer.ready;
    expect(db.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 0 });
    await checkpointer.stop();
    expect(db.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 1000 });
    db.close();
  });

  test("keeps the WAL bounded under sustained writes, from its own thread", async () => {
    const path = tempDbPath();
    const db = openStore(path, { migrations: rowsTable });
    const reports: CheckpointReport[] = [];
    const checkpointer = startCheckpointer(db, path, {
      intervalMs: 50,
      catchUpAbovePages: 2048,
      onCheckpoint: (report) => reports.push(report),
    });
    await checkpointer.ready;
    const insert = db.prepare("INSERT INTO rows (id, body) VALUES (?1, ?2)");
    const body = "x".repeat(500);
    const writeBatch = db.transaction((from: number) => {
      for (let id = from; id < from + 100; id++) insert.run(id, body);
    });
    // ~100 MB of rows, one transaction each millisecond (~40 MB/s, about what the
    // API writes under load): the WAL alone would grow past 100 MB.
    const rows = 200_000;
    let largest = 0;
    for (let id = 1; id <= rows; id += 100) {
      writeBatch(id);
      largest = Math.max(largest, walSize(path));
      await Bun.sleep(1);
    }
    await checkpointer.stop();
    expect(reports.some((report) => report.mode === "PASSIVE" && report.checkpointedPages > 0)).toBe(true);
    expect(reports.some((report) => report.mode === "CATCH_UP" && report.busy === 0)).toBe(true);
    // The catch-up bound (8 MB) plus what is written between two ticks.
    expect(largest).toBeLessThan(32 * 1024 * 1024);
    expect(statSync(path).size).toBeGreaterThan(90 * 1024 * 1024);
    expect(db.query("SELECT count(*) AS n FROM rows").get()).toEqual({ n: rows });
    db.close();
  }, 30_000);

  test("loses no committed row when the process is killed", async () => {
    const path = tempDbPath();
    const writer = Bun.spawn([process.execPath, join(import.meta.dir, "_checkpointer-writer.fixture.ts"), path], { stdout: "pipe", stderr: "inherit" });
    let committed = 0;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of writer.stdout) {
      buffered += decoder.decode(chunk);
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) committed = Number(line);
      // Well past several checkpoints (every 20 ms), then killed mid-write.
      if (committed >= 100_000) break;
    }
    writer.kill("SIGKILL");
    await writer.exited;
    expect(committed).toBeGreaterThanOrEqual(100_000);
    const db = openStore(path, { migrations: rowsTable });
    const { n, m } = db.query("SELECT count(*) AS n, max(id) AS m FROM rows").get() as { n: number; m: number };
    expect(m).toBeGreaterThanOrEqual(committed);
    expect(n).toBe(m);
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    db.close();
  }, 60_000);

  test("does nothing for an in-memory database", async () => {
    const db = openStore(":memory:");
    const checkpointer = startCheckpointer(db, ":memory:");
    await checkpointer.ready;
    await checkpointer.stop();
    db.close();
  });

  test("each checkpoint's duration is observed by mode, and the WAL file's size is read when metrics are scraped", async () => {
    const path = tempDbPath();
    const db = openStore(path, { migrations: rowsTable });
    const passiveCount = async () => {
      const metric = metricsRegistry.getSingleMetric("tap_sqlite_checkpoint_duration_seconds");
      const values = metric ? (await metric.get()).values : [];
      return values.find((value) => (value as { metricName?: string }).metricName === "tap_sqlite_checkpoint_duration_seconds_count" && value.labels.mode === "passive")?.value ?? 0;
    };
    const before = await passiveCount();
    const reports: CheckpointReport[] = [];
    const checkpointer = startCheckpointer(db, path, { intervalMs: 20, onCheckpoint: (report) => reports.push(report) });
    await checkpointer.ready;
    const insert = db.prepare("INSERT INTO rows (id, body) VALUES (?1, ?2)");
    for (let id = 1; id <= 100; id++) insert.run(id, "x".repeat(500));
    const wal = walSize(path);
    expect(wal).toBeGreaterThan(0);
    expect(await metricsText()).toMatch(new RegExp(`^tap_sqlite_wal_bytes(\\{[^}]*\\})? ${wal}$`, "m"));
    const deadline = Date.now() + 5000;
    while (!reports.some((report) => report.mode === "PASSIVE") && Date.now() < deadline) await Bun.sleep(10);
    await checkpointer.stop();
    db.close();
    expect(await passiveCount()).toBe(before + reports.filter((report) => report.mode === "PASSIVE").length);
    expect(reports.length).toBeGreaterThan(0);
  });
});
