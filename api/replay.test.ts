import { expect, test } from "bun:test";
import { join } from "node:path";

/** sysexits' EX_CONFIG, what `configOrExit` exits with (common/config.ts). */
const EXIT_CONFIG = 78;

const audit = (env: Record<string, string>) =>
  Bun.spawnSync([process.execPath, join(import.meta.dir, "replay.ts"), "--db", "/nonexistent/bets.db", "--from", "1", "--to", "2"], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });

test("the audit refuses a bad setting as the services do: exit 78, naming the variable and its value", () => {
  for (const [variable, value] of [
    ["STALE_MS", "5s"],
    ["SETTLE_GRACE_MS", "-1"],
    ["SETTLE_TIMEOUT_MS", "10"],
  ] as const) {
    const run = audit({ [variable]: value });
    expect(run.exitCode).toBe(EXIT_CONFIG);
    expect(JSON.parse(run.stderr.toString())).toMatchObject({ level: "fatal", component: "replay", variable, value });
  }
});
