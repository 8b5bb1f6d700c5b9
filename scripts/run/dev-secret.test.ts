import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDevSecret } from "./dev-secret.ts";

test("makes a private secret once and keeps it across runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "tap-secret-"));
  try {
    const path = join(dir, "run", "session-secret");
    ensureDevSecret(path);
    const first = readFileSync(path, "utf8");
    expect(first.trim().length).toBeGreaterThanOrEqual(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    ensureDevSecret(path);
    expect(readFileSync(path, "utf8")).toBe(first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
