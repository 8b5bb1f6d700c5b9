/**
 * The production install, proven under a real systemd: deploy/install.sh runs
 * inside a throwaway systemd-nspawn sandbox of this machine's own root
 * (deploy/sandbox.ts), with redis-server and nginx as Debian ships them, and
 * the plan's exit criteria are checked there: every unit active, requests and
 * a websocket through nginx on port 80, ticks flowing, SQLite and Redis
 * round trips, restarts after kill -9, a reboot, an upgrade, an uninstall.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createSandbox, SANDBOX_SOURCE, type Sandbox, sandboxUnavailable } from "../deploy/sandbox.ts";
import type { SmokeCheck } from "../deploy/smoke.ts";
import { waitFor } from "./support/wait.ts";

const ROOT = join(import.meta.dir, "..");
const SERVICES = ["api", "ws", "price"] as const;
const UNITS = SERVICES.map((name) => `tap-trading-${name}.service`);
const ALL_UNITS = [...UNITS, "redis-server.service", "nginx.service"];

const missing = sandboxUnavailable();
// CI runs as root with systemd-container installed (deploy/ensure-nspawn.sh): there it must run.
if (missing && !process.env.CI) console.warn(`test/deploy-systemd.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

let sandbox: Sandbox;
const betIds: string[] = [];

async function sh(command: string, timeoutMs = 30_000): Promise<string> {
  const result = await sandbox.exec(["bash", "-c", command], { timeoutMs });
  if (result.code !== 0) throw new Error(`in the sandbox: ${command}\nexit ${result.code}\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

const show = async (unit: string, property: string) => sh(`systemctl show -p ${property} --value ${unit}`);

/** deploy/smoke.ts inside the sandbox's network: healthz, readyz, the page and a live tick, all through nginx. */
async function smoke(): Promise<Record<string, SmokeCheck>> {
  const result = await sandbox.execInNetwork([process.execPath, join(ROOT, "deploy", "smoke.ts"), "http://127.0.0.1"], { timeoutMs: 30_000 });
  const checks = result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SmokeCheck);
  return Object.fromEntries(checks.map((check) => [check.check, check]));
}

async function expectSmokeOk() {
  const checks = await smoke();
  for (const name of ["healthz", "readyz", "page", "websocket tick"]) {
    expect({ name, ...checks[name] }).toMatchObject({ name, ok: true });
  }
}

/** The bets in /data/bets.db, read as the app user (a root-owned -shm would lock the API out). */
async function storedBetIds(): Promise<string[]> {
  const script = `const { Database } = require("bun:sqlite");
const db = new Database("/data/bets.db", { readonly: true });
const mode = db.query("PRAGMA journal_mode").get().journal_mode;
console.log(JSON.stringify({ mode, ids: db.query("SELECT id FROM bets").all().map((row) => row.id) }));`;
  const out = await sh(`HOME=/tmp setpriv --reuid=app --regid=app --clear-groups ${SANDBOX_SOURCE}/node_modules/.bin/bun -e '${script}'`);
  const { mode, ids } = JSON.parse(out) as { mode: string; ids: string[] };
  expect(mode).toBe("wal");
  return ids;
}

async function allActive() {
  for (const unit of ALL_UNITS) expect({ unit, state: await show(unit, "ActiveState") }).toEqual({ unit, state: "active" });
  expect(await sh("systemctl --failed --no-legend --plain")).toBe("");
}

describe.skipIf(!run)("deploy/install.sh under a real systemd (nspawn sandbox)", () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI must be able to boot the sandbox: ${missing}`);
    const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/build.sh failed:\n${build.stdout}${build.stderr}`);
    sandbox = await createSandbox({ source: ROOT });
    await sandbox.boot();
    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    if (install.code !== 0) throw new Error(`deploy/install.sh failed (${install.code}):\n${install.stdout}${install.stderr}`);
  }, 180_000);

  afterAll(async () => {
    await sandbox?.destroy();
  }, 60_000);

  test("every unit is enabled and active, none failed, logs in the journal", async () => {
    await allActive();
    for (const unit of ALL_UNITS) expect({ unit, enabled: await sh(`systemctl is-enabled ${unit}`) }).toEqual({ unit, enabled: "enabled" });
    for (const name of SERVICES) {
      const unit = `tap-trading-${name}.service`;
      expect(await show(unit, "User")).toBe("app");
      const first = await waitFor(`a JSON log line of ${name} in the journal`, async () =>
        (await sh(`journalctl -u ${unit} -o cat --no-pager`)).split("\n").find((line) => line.startsWith("{")),
      );
      expect(JSON.parse(first)).toMatchObject({ component: name });
    }
  });

  test("every unit is rated OK or better by systemd-analyze security (exposure <= 4.0)", async () => {
    const out = await sh(`systemd-analyze security --no-pager ${UNITS.join(" ")}`);
    const levels = [...out.matchAll(/Overall exposure level for (\S+): ([\d.]+) (\w+)/g)].map(([, unit, level, rating]) => ({ unit, level: Number(level), rating }));
    expect(levels.map((entry) => entry.unit)).toEqual(UNITS);
    for (const entry of levels) expect(entry.level).toBeLessThanOrEqual(4.0);
    console.log(`systemd-analyze security: ${levels.map((entry) => `${entry.unit} ${entry.level} ${entry.rating}`).join(", ")}`);
  });

  test("curl http://localhost/api/healthz answers 200 through nginx", async () => {
    expect(await sh("curl -sS -o /dev/null -w '%{http_code}' http://localhost/api/healthz")).toBe("200");
    expect(await sh("curl -sS http://localhost/")).toContain("tap-trading");
  });

  test("through nginx: readyz, the page, and a websocket receiving live ticks (price -> Redis -> ws)", async () => {
    await expectSmokeOk();
    // The tick on the websocket came through Redis: the price service keeps the latest there.
    const latest = JSON.parse(await sh("redis-cli GET price:btc:usd")) as { ts: number };
    expect(Date.now() - latest.ts).toBeLessThan(10_000);
  });

  test("bets go to /data/bets.db, SQLite in WAL mode", async () => {
    const session = JSON.parse(await sh("curl -sS -X POST http://localhost/api/session")) as { token: string };
    for (let i = 0; i < 3; i++) {
      const grid = JSON.parse(await sh("curl -sS http://localhost/api/grid")) as { ts: number; cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean }[] };
      const cell = grid.cells.find((c) => !c.locked && c.t_start - grid.ts > 10_000);
      if (!cell) throw new Error("no open cell on the sandbox's grid");
      const bet = { amount: 5, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } };
      const answer = await sh(
        `curl -sS -H 'content-type: application/json' -H 'authorization: Bearer ${session.token}' -d '${JSON.stringify(bet)}' http://localhost/api/bets`,
      );
      betIds.push((JSON.parse(answer) as { bet_id: string }).bet_id);
    }
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  });

  test("kill -9 of each service's main PID: systemd starts it again", async () => {
    const before = await Promise.all(UNITS.map(async (unit) => ({ unit, pid: await show(unit, "MainPID") })));
    for (const { pid } of before) expect(Number(pid)).toBeGreaterThan(0);
    await sh(`kill -9 ${before.map(({ pid }) => pid).join(" ")}`);
    // RestartSec=5: each comes back on its own a little after five seconds.
    for (const { unit, pid } of before) {
      await waitFor(
        `${unit} restarted after kill -9`,
        async () => (await show(unit, "ActiveState")) === "active" && (await show(unit, "MainPID")) !== pid && (await show(unit, "NRestarts")) === "1",
        20_000,
        200,
      );
    }
    await waitFor("healthz through nginx after the restarts", async () => (await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")) === "200");
    await expectSmokeOk();
  }, 40_000);

  test("installing again over the running system upgrades it, restarting each service once", async () => {
    const starts = async (unit: string) => Number(await sh(`journalctl -u ${unit} -o cat --no-pager | grep -c '^Started ' || true`));
    const before = await Promise.all(UNITS.map(async (unit) => ({ unit, starts: await starts(unit), id: await show(unit, "InvocationID") })));
    const nginxPid = await show("nginx.service", "MainPID");

    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(install.code).toBe(0);

    for (const { unit, starts: startsBefore, id } of before) {
      expect({ unit, starts: await starts(unit) }).toEqual({ unit, starts: startsBefore + 1 });
      expect(await show(unit, "InvocationID")).not.toBe(id);
    }
    expect(await show("nginx.service", "MainPID")).toBe(nginxPid); // reloaded, not restarted
    await allActive();
    await waitFor("healthz after the upgrade", async () => (await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")) === "200");
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  }, 60_000);

  test("a reboot brings everything back by itself, with the bets still in /data/bets.db", async () => {
    // /run is a fresh tmpfs at every boot: the marker's absence shows a real reboot, not a restart of units.
    await sh("touch /run/tap-before-reboot");
    const leader = sandbox.leader();
    await sandbox.poweroff();
    await sandbox.boot();
    expect(sandbox.leader()).not.toBe(leader);
    expect(await sh("test -e /run/tap-before-reboot && echo kept || echo gone")).toBe("gone");
    await allActive();
    await waitFor("healthz after the reboot", async () => (await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")) === "200");
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
    await expectSmokeOk();
  }, 90_000);

  test("the uninstaller removes the services and keeps /data unless asked", async () => {
    await sh(`${SANDBOX_SOURCE}/deploy/uninstall.sh`);
    for (const unit of UNITS) expect(await show(unit, "LoadState")).toBe("not-found");
    expect(await sh("test -e /opt/app && echo present || echo gone")).toBe("gone");
    expect(await sh("test -f /data/bets.db && echo kept")).toBe("kept");
    expect(await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz || true")).not.toBe("200");

    await sh(`${SANDBOX_SOURCE}/deploy/uninstall.sh --purge-data`);
    expect(await sh("test -e /data && echo present || echo gone")).toBe("gone");
    expect(await sh("getent passwd app || echo none")).toBe("none");
  });
});
