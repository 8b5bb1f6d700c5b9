import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../common/store/sqlite.ts";

/** A real SQLite file in a fresh temp folder, removed on dispose. */
export function openTempStore(): Database & { path: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "tap-db-"));
  const path = join(dir, "bets.db");
  const db = openStore(path);
  return Object.assign(db, {
    path,
    [Symbol.dispose]() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
