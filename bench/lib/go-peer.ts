import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the Go peer's source lives unless `GO_PEER_DIR` says otherwise. */
export const DEFAULT_GO_PEER_DIR = "/work/shared/peers/go-skeleton";

/** The built Go peer: two binaries in a temp dir that `remove()` deletes. */
export interface GoPeer {
  api: string;
  ws: string;
  remove(): void;
}

/**
 * Copies the Go peer's source (`GO_PEER_DIR`, default {@link DEFAULT_GO_PEER_DIR})
 * into a temp dir and runs its `build.sh` (Debian packages only, GOCACHE
 * `/tmp/gocache` unless set). Nothing is written to the repository.
 *
 * ```ts
 * const peer = buildGoPeer();
 * try { … peer.api … } finally { peer.remove(); }
 * ```
 */
export function buildGoPeer(sourceDir = process.env.GO_PEER_DIR || DEFAULT_GO_PEER_DIR): GoPeer {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-go-peer-"));
  cpSync(sourceDir, dir, { recursive: true });
  const build = Bun.spawnSync(["sh", "build.sh"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", GOCACHE: process.env.GOCACHE || "/tmp/gocache" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `building the Go peer from ${sourceDir} failed (exit ${build.exitCode}):\n${build.stderr.toString()}\n` +
        "needs: apt-get install -y golang-go golang-github-labstack-echo-dev golang-github-gorilla-websocket-dev golang-github-gomodule-redigo-dev",
    );
  }
  return {
    api: join(dir, "bin", "api"),
    ws: join(dir, "bin", "ws"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
