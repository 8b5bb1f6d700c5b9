import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * One paragraph about the machine and tools, printed above every result table
 * so figures are never read without their context.
 *
 * ```ts
 * console.log(describeMachine());
 * ```
 */
export function describeMachine(): string {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown CPU";
  const mhz = /^cpu MHz\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1];
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const tool = (cmd: string[]) => {
    try {
      const out = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
      return (out.stdout.toString() + out.stderr.toString()).split("\n")[0]!.trim();
    } catch {
      return "not found";
    }
  };
  return [
    `machine: nproc ${availableParallelism()}, ${model}${mhz ? ` @ ${Math.round(Number(mhz))} MHz` : ""}, ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${kernel}`,
    `tools:   bun ${Bun.version}, ${tool(["go", "version"])}, ${tool(["wrk", "--version"]).replace(/ Copyright.*/, "")}, ` +
      `${tool(["redis-server", "--version"]).replace(/ sha=.*/, "")}`,
    `code:    ours at ${describeCommit()}`,
  ].join("\n");
}

/** The commit our services run from, flagging uncommitted changes under api/, ws/ and common/. */
function describeCommit(): string {
  const git = (args: string[]) => Bun.spawnSync(["git", "-C", ROOT, ...args], { stdout: "pipe", stderr: "ignore" }).stdout.toString().trim();
  const commit = git(["log", "-1", "--format=%h %cs %s"]) || "unknown commit";
  const dirty = git(["status", "--porcelain", "--", "api", "ws", "common"]);
  return dirty ? `${commit} (plus uncommitted changes in api/ws/common)` : commit;
}
