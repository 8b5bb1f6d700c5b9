/**
 * The production install, proven under a real systemd: deploy/install.sh runs
 * inside a throwaway systemd-nspawn sandbox of this machine's own root
 * (deploy/sandbox.ts), with redis-server and nginx as Debian ships them, and
 * the plan's exit criteria are checked there: every unit active, requests and
 * a websocket through nginx on port 80, ticks flowing, SQLite and Redis
 * round trips, restarts after kill -9, a reboot, an upgrade, an uninstall,
 * and the backup timer with a backup and `api report` run on the installed host.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandbox, SANDBOX_SOURCE, type Sandbox, sandboxUnavailable } from "../deploy/sandbox.ts";
import type { SmokeCheck } from "../deploy/smoke.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

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
/** The player who placed betIds: their token must outlive an uninstall and a reinstall. */
let sessionToken = "";
/** Debian's files deploy/install.sh changes, before it ran: the uninstaller must put them back. */
let distroFilesBefore = "";
const DISTRO_FILES = "sha256sum /etc/nginx/nginx.conf /etc/redis/redis.conf && readlink /etc/nginx/sites-enabled/default";

async function sh(command: string, timeoutMs = 30_000): Promise<string> {
  const result = await sandbox.exec(["bash", "-c", command], { timeoutMs });
  if (result.code !== 0) throw new Error(`in the sandbox: ${command}\nexit ${result.code}\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

const show = async (unit: string, property: string) => sh(`systemctl show -p ${property} --value ${unit}`);

/** redis-cli inside the sandbox as one of the installed ACL users, its password read from /etc/tap-trading (through the environment). */
const redisAs = (user: "admin" | "api" | "ws" | "price", command: string) =>
  sh(`REDISCLI_AUTH=$(head -n1 /etc/tap-trading/redis-${user}.password) redis-cli --no-auth-warning --user tap-${user} ${command}`);

/** The secrets deploy/install.sh made, and the owner and mode each must have. */
const SECRETS: Record<string, string> = {
  "/etc/tap-trading/session-secret": "600 app:app",
  "/etc/tap-trading/redis-admin.password": "600 root:root",
  "/etc/tap-trading/redis-api.password": "600 root:root",
  "/etc/tap-trading/redis-ws.password": "600 root:root",
  "/etc/tap-trading/redis-price.password": "600 root:root",
  "/etc/tap-trading/price-signing-key": "600 root:root",
  "/etc/redis/tap-trading.acl": "640 redis:redis",
};

const secretDigests = () => sh(`sha256sum ${Object.keys(SECRETS).join(" ")}`);

/** Redis refuses a client without a password; the services are connected, each as its own user. */
async function expectRedisLocked() {
  expect(await sh("redis-cli PING 2>&1 || true")).toStartWith("NOAUTH");
  const clients = await redisAs("admin", "CLIENT LIST");
  for (const name of SERVICES) expect(clients).toContain(`user=tap-${name} `);
  expect([...clients.matchAll(/ user=(\S+) /g)].map(([, user]) => user).filter((user) => user === "default")).toEqual([]);
}

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

/**
 * A player during an upgrade (run by Bun in the sandbox's network): bets of 1 on
 * offered cells, one after another, and the page's own websocket client
 * (web/src/ws-client, which reconnects by itself), until the stop file exists.
 * Prints { accepted, answers, closes, states, ticksAfterReconnect }.
 */
const UPGRADE_LOAD = `
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { connectLiveFeed } from ${JSON.stringify(join(ROOT, "web", "src", "ws-client", "mod.ts"))};
const [base, stop] = process.argv.slice(2);
const accepted = [];
const answers = {};
const closes = [];
const states = [];
let ticksAfterReconnect = 0;
let reconnected = false;
const feed = connectLiveFeed({
  url: base.replace(/^http/, "ws") + "/ws",
  // The page's socket, with its close codes noted on the way: the client itself decides when to reconnect.
  openSocket: (url) => {
    const socket = new WebSocket(url);
    socket.addEventListener("close", (event) => {
      if (existsSync(stop)) return;
      closes.push(event.code);
      reconnected = true;
    });
    return socket;
  },
  onState: (state) => states.push(state),
  onTick: () => { if (reconnected) ticksAfterReconnect++; },
});
const call = async (path, init) => {
  try {
    const response = await fetch(base + path, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  } catch {
    return { status: 0, body: {} };
  }
};
let token;
while (!existsSync(stop)) {
  if (!token) token = (await call("/api/session", { method: "POST" })).body.token;
  const grid = await call("/api/grid");
  const cell = grid.body.cells?.find((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - grid.body.ts > 5000);
  if (!token || !cell) { await Bun.sleep(100); continue; }
  const bet = { amount: 1, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } };
  const answer = await call("/api/bets", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + token }, body: JSON.stringify(bet) });
  answers[answer.status] = (answers[answer.status] ?? 0) + 1;
  if (answer.status === 202) {
    accepted.push(answer.body.bet_id);
    if (accepted.length === 1) writeFileSync(join(dirname(stop), "started"), "");
  }
  if (answer.body.error?.code === "insufficient_funds") token = undefined;
  await Bun.sleep(50);
}
feed.close();
console.log(JSON.stringify({ accepted, answers, closes, states, ticksAfterReconnect }));
process.exit(0);
`;

/**
 * One bet of `amount` through nginx at `base` (curl's `options`, e.g. a CA for https), on an
 * offered cell; the mock price moves on between a grid and a bet, so a cell may no longer be
 * offered by then (409 not_offered): another grid, another cell. Returns the bet's id.
 */
async function placeBet(token: string, { amount = 5, base = "http://localhost", options = "" } = {}): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const gridAnswer = await sh(`curl -sS ${options} -w '\\n%{http_code}' ${base}/api/grid`);
    const grid = JSON.parse(gridAnswer.slice(0, gridAnswer.lastIndexOf("\n"))) as { ts: number; cells?: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean; offered: boolean; multiplier: number }[] };
    if (!grid.cells) throw new Error(`GET /api/grid through nginx answered no grid: ${gridAnswer}`);
    // A cell whose expected return is under the grid's minimum is shown but refused (409 not_offered).
    const cell = grid.cells.find((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - grid.ts > 10_000);
    if (!cell) throw new Error("no open cell on the sandbox's grid");
    const bet = { amount, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } };
    const answer = await sh(`curl -sS ${options} -H 'content-type: application/json' -H 'authorization: Bearer ${token}' -d '${JSON.stringify(bet)}' ${base}/api/bets`);
    const placed = JSON.parse(answer) as { bet_id?: string; error?: { code?: string } };
    if (placed.error?.code === "not_offered") continue;
    if (!placed.bet_id) throw new Error(`POST /api/bets through nginx answered no bet: ${answer}`);
    return placed.bet_id;
  }
  throw new Error("ten cells in a row were no longer offered");
}

/** A new player's token, from POST /api/session through nginx. */
const newSession = async () => (JSON.parse(await sh("curl -sS -X POST http://localhost/api/session")) as { token: string }).token;

/**
 * The installer restarted price, api and ws one at a time, in that order: its "restarting"
 * lines, and systemd's own clock, by which each began to stop only after the one before it
 * was active again (restarted together, all three stop at once).
 */
async function expectRestartedOneAtATime(installerOutput: string) {
  const order = ["price", "api", "ws"].map((name) => `tap-trading-${name}.service`);
  expect(installerOutput.split("\n").filter((line) => line.startsWith("install: restarting tap-trading-"))).toEqual(order.map((unit) => `install: restarting ${unit}`));
  for (const [before, unit] of order.slice(0, -1).map((first, i) => [first, order[i + 1]!] as const)) {
    const activeAgain = Number(await show(before, "ActiveEnterTimestampMonotonic"));
    const stopping = Number(await show(unit, "ActiveExitTimestampMonotonic"));
    expect(activeAgain).toBeGreaterThan(0);
    expect({ unit, stoppedAfter: before, ok: stopping > activeAgain }).toEqual({ unit, stoppedAfter: before, ok: true });
  }
}

/** The local addresses of every listening TCP socket of the process `pid`, as `ss` shows them. */
async function listeningOf(pid: string): Promise<string[]> {
  const lines = (await sh(`ss -ltnpH | grep -F 'pid=${pid},' || true`)).split("\n").filter(Boolean);
  return [...new Set(lines.map((line) => line.trim().split(/\s+/)[3]!))];
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
    // The unit reads the exchanges (PRICE_SOURCE=venues); the sandbox has no internet, so this
    // site override runs the mock, as an operator would for an offline demo.
    await sh("install -d -m 0750 /etc/tap-trading && printf 'PRICE_SOURCE=mock\\n' > /etc/tap-trading/price.env");
    distroFilesBefore = await sh(DISTRO_FILES);
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
    const latest = JSON.parse(await redisAs("ws", "GET price:btc:usd")) as { ts: number };
    expect(Date.now() - latest.ts).toBeLessThan(10_000);
  });

  test("api, ws and price listen on 127.0.0.1 only (nginx alone on port 80 of every address)", async () => {
    for (const unit of UNITS) {
      const addresses = await listeningOf(await show(unit, "MainPID"));
      expect({ unit, listening: addresses.length > 0 }).toEqual({ unit, listening: true });
      for (const address of addresses) expect({ unit, address }).toEqual({ unit, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    }
    // Each service's port, whoever holds it: loopback only.
    const listening = [...new Set((await sh("ss -ltnH")).split("\n").map((line) => line.trim().split(/\s+/)[3]!))];
    for (const port of [8080, 8081, 8082]) expect({ port, addresses: listening.filter((address) => address.endsWith(`:${port}`)) }).toEqual({ port, addresses: [`127.0.0.1:${port}`] });
    expect(listening).toContain("0.0.0.0:80");
    expect(await listeningOf(await show("nginx.service", "MainPID"))).toContain("0.0.0.0:80");
  });

  test("Redis wants a password: the default user is off, each service is its own ACL user and may do only its part", async () => {
    await expectRedisLocked();
    expect(await sh("redis-cli AUTH default anything 2>&1 || true")).toContain("WRONGPASS");
    // Our settings are our file, loaded by one line at the end of Debian's redis.conf.
    expect(await sh("tail -n1 /etc/redis/redis.conf")).toBe("include /etc/redis/tap-trading.conf");
    expect(await sh("grep -c '^aclfile /etc/redis/tap-trading.acl$' /etc/redis/tap-trading.conf")).toBe("1");
    expect(await redisAs("admin", "CONFIG GET maxmemory-policy")).toBe("maxmemory-policy\nallkeys-lru");
    // Bounded, as docs/deployment.md says (256mb), so the LRU policy has something to act on.
    expect(await redisAs("admin", "CONFIG GET maxmemory")).toBe(`maxmemory\n${256 * 1024 * 1024}`);
    // A few of test/redis-acl.test.ts's refusals, on the installed server.
    expect(await redisAs("api", "PUBLISH prices:btc:usd 42105")).toStartWith("NOPERM");
    expect(await redisAs("ws", "PUBLISH bets:events '[]'")).toStartWith("NOPERM");
    expect(await redisAs("price", "PUBLISH grid:btc:usd '{}'")).toStartWith("NOPERM");
    expect(await redisAs("price", "FLUSHALL")).toStartWith("NOPERM");
    expect(await redisAs("api", "GET readyz:none")).toBe("");
  });

  test("the secrets are files of mode 0600 (root's, handed over by systemd), the ACL file holds no password", async () => {
    for (const [file, wanted] of Object.entries(SECRETS)) expect({ file, stat: await sh(`stat -c '%a %U:%G' ${file}`) }).toEqual({ file, stat: wanted });
    for (const name of [...SERVICES, "admin"]) {
      const password = await sh(`head -n1 /etc/tap-trading/redis-${name}.password`);
      expect(password.length).toBeGreaterThanOrEqual(40);
      expect(await sh(`grep -cF -- '${password}' /etc/redis/tap-trading.acl || true`)).toBe("0");
    }
    expect((await sh("head -n1 /etc/tap-trading/price-signing-key")).length).toBeGreaterThanOrEqual(43);
    for (const name of SERVICES) {
      const unit = `tap-trading-${name}.service`;
      const environment = await show(unit, "Environment");
      expect(environment).toContain(`REDIS_USERNAME=tap-${name}`);
      // What the service reads: systemd's copy, its own and no one else's.
      const dir = `/run/credentials/${unit}`;
      expect(environment).toContain(`REDIS_PASSWORD_FILE=${dir}/redis-password`);
      expect(environment).toContain(`PRICE_SIGNING_KEY_FILE=${dir}/price-signing-key`);
      expect(await sh(`stat -c '%a %U' ${dir}/redis-password ${dir}/price-signing-key`)).toBe("400 app\n400 app");
      expect(await sh(`cmp ${dir}/redis-password /etc/tap-trading/redis-${name}.password && echo same`)).toBe("same");
    }
  });

  test("price reads the exchanges by default; the site's price.env (the mock, offline here) wins, and /healthz says which", async () => {
    expect(await show("tap-trading-price.service", "Environment")).toContain("PRICE_SOURCE=venues");
    const health = JSON.parse(await sh("curl -s http://127.0.0.1:8082/healthz")) as { status: string; source: string };
    expect(health).toMatchObject({ status: "ok", source: "mock" });
  });

  test("bets go to /data/bets.db, SQLite in WAL mode", async () => {
    sessionToken = await newSession();
    for (let bet = 0; bet < 3; bet++) betIds.push(await placeBet(sessionToken));
    expect(betIds).toHaveLength(3);
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  });

  test("the backup timer is enabled and waiting; a backup started by hand is written, checked and holds the bets", async () => {
    expect(await sh("systemctl is-enabled tap-trading-backup.timer")).toBe("enabled");
    expect(await show("tap-trading-backup.timer", "ActiveState")).toBe("active");
    expect(await sh("systemctl list-timers --all --no-legend tap-trading-backup.timer")).toContain("tap-trading-backup.service");
    // A oneshot: start returns once the backup is done (or failed).
    await sh("systemctl start tap-trading-backup.service", 60_000);
    expect(await show("tap-trading-backup.service", "Result")).toBe("success");
    const line = (await sh("journalctl -u tap-trading-backup.service -o cat --no-pager")).split("\n").find((text) => text.startsWith("{"));
    const logged = JSON.parse(line ?? "{}") as { msg?: string; path?: string; integrity?: string };
    expect(logged).toMatchObject({ msg: "backup written and checked", integrity: "ok" });
    expect(logged.path).toMatch(/^\/data\/backups\/bets-[\dT.Z-]+\.db$/);
    expect(await sh(`stat -c '%a %U:%G' ${logged.path}`)).toBe("600 app:app");
    const script = `const { Database } = require("bun:sqlite");
const db = new Database("${logged.path}", { readonly: true });
console.log(JSON.stringify({ check: db.query("PRAGMA integrity_check").get().integrity_check, ids: db.query("SELECT id FROM bets").all().map((row) => row.id) }));`;
    const copy = JSON.parse(await sh(`HOME=/tmp setpriv --reuid=app --regid=app --clear-groups ${SANDBOX_SOURCE}/node_modules/.bin/bun -e '${script}'`)) as { check: string; ids: string[] };
    expect(copy.check).toBe("ok");
    expect(copy.ids).toEqual(expect.arrayContaining(betIds));
  });

  test("on PostgreSQL (DATABASE_URL in api.env) the backup unit gets the installer's drop-in and dumps the database over TCP; back on SQLite the drop-in goes", async () => {
    // A PostgreSQL of the sandbox's own (this machine's binaries, a cluster on the sandbox's disk), on 127.0.0.1:5433.
    const bin = (await sh("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1")).trim();
    await sh(`install -d -o postgres -g postgres -m 0700 /var/tmp/tap-pg && runuser -u postgres -- ${bin}/initdb -D /var/tmp/tap-pg -A trust -U postgres >/dev/null`, 60_000);
    await sh(`systemd-run --unit=tap-pg --uid=postgres ${bin}/postgres -D /var/tmp/tap-pg -p 5433 -k /var/tmp/tap-pg -c listen_addresses=127.0.0.1`);
    await waitFor("the sandbox's PostgreSQL answers", async () => (await sh("pg_isready -q -h 127.0.0.1 -p 5433 && echo up").catch(() => "")) === "up", 30_000);
    await sh("createdb -h 127.0.0.1 -p 5433 -U postgres tap");
    await sh("printf 'DATABASE_URL=postgres://postgres@127.0.0.1:5433/tap\\n' >> /etc/tap-trading/api.env");
    try {
      const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
      expect(install.code, install.stderr).toBe(0);
      expect(await sh("cat /etc/systemd/system/tap-trading-backup.service.d/postgres-network.conf")).toContain("IPAddressAllow=localhost");
      expect(await show("tap-trading-backup.service", "PrivateNetwork")).toBe("no");
      await sh("systemctl start tap-trading-backup.service", 60_000);
      expect(await show("tap-trading-backup.service", "Result")).toBe("success");
      const lines = (await sh("journalctl -u tap-trading-backup.service -o cat --no-pager")).split("\n").filter((text) => text.startsWith("{"));
      const logged = JSON.parse(lines.at(-1) ?? "{}") as { msg?: string; path?: string; integrity?: string };
      expect(logged).toMatchObject({ msg: "backup written and checked", integrity: "ok" });
      expect(logged.path).toMatch(/^\/data\/backups\/bets-[\dT.Z-]+\.dump$/);
      // The dump holds the API's schema: its tables are listed.
      expect(await sh(`pg_restore --list ${logged.path}`)).toMatch(/TABLE public ledger /);
    } finally {
      await sh("sed -i '/^DATABASE_URL=/d' /etc/tap-trading/api.env");
    }
    // Back on SQLite: the drop-in goes, the unit has no network again, and the bets are all there.
    const back = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(await sh("ls /etc/systemd/system/tap-trading-backup.service.d 2>/dev/null | wc -l")).toBe("0");
    expect(await show("tap-trading-backup.service", "PrivateNetwork")).toBe("yes");
    await sh("systemctl stop tap-pg.service");
    await allActive();
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  }, 240_000);

  test("`api report` of the installed binary reads the live database: the bets are in its books, the audit passes", async () => {
    const out = await sh("setpriv --reuid=app --regid=app --clear-groups /opt/app/bin/api report --db /data/bets.db --json; echo \"exit=$?\"");
    const [json, exit] = [out.slice(0, out.lastIndexOf("\n")), out.slice(out.lastIndexOf("\n") + 1)];
    const report = JSON.parse(json) as { books: { outcomes: Record<string, { bets: number }> }; audit: { ok: boolean; stakes: { checked: number } } };
    expect(exit).toBe("exit=0");
    expect(report.audit.ok).toBe(true);
    expect(report.audit.stakes.checked).toBeGreaterThanOrEqual(betIds.length);
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
    const redisPid = await show("redis-server.service", "MainPID");
    const secrets = await secretDigests();

    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(install.code, install.stderr).toBe(0);
    await expectRestartedOneAtATime(install.stderr);
    // The secrets are kept, the ACL is unchanged, so Redis is neither restarted nor reloaded.
    expect(await secretDigests()).toBe(secrets);
    expect(await show("redis-server.service", "MainPID")).toBe(redisPid);
    expect(await sh("grep -c '^include /etc/redis/tap-trading.conf$' /etc/redis/redis.conf")).toBe("1");

    for (const { unit, starts: startsBefore, id } of before) {
      expect({ unit, starts: await starts(unit) }).toEqual({ unit, starts: startsBefore + 1 });
      expect(await show(unit, "InvocationID")).not.toBe(id);
    }
    expect(await show("nginx.service", "MainPID")).toBe(nginxPid); // reloaded, not restarted
    await allActive();
    await waitFor("healthz after the upgrade", async () => (await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")) === "200");
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
    await waitFor("the services connected to Redis again", async () => {
      await expectRedisLocked();
      return true;
    });
  }, 60_000);

  test("an upgrade under a bet load loses no bet answered 202, and the page's websocket client, closed with 1001 by the old ws, reconnects by itself to the new one", async () => {
    // A player's traffic from outside, in the sandbox's network, until the install is done.
    const dir = mkdtempSync(join(tmpdir(), "tap-upgrade-load-"));
    const stop = join(dir, "stop");
    writeFileSync(join(dir, "load.ts"), UPGRADE_LOAD);
    try {
      const load = sandbox.execInNetwork([process.execPath, join(dir, "load.ts"), "http://127.0.0.1", stop], { timeoutMs: 150_000 });
      // The load has placed a bet before the install starts.
      await waitFor("the load placing bets", async () => existsSync(join(dir, "started")), 20_000);
      const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
      writeFileSync(stop, "");
      const result = await load;
      expect(install.code, install.stderr).toBe(0);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as { accepted: string[]; answers: Record<string, number>; closes: number[]; states: string[]; ticksAfterReconnect: number };
      console.log(`bets during the upgrade: ${JSON.stringify(report.answers)}; websocket closes: ${JSON.stringify(report.closes)}; the client's states: ${JSON.stringify(report.states)}`);
      expect(report.accepted.length).toBeGreaterThan(0);
      // Every bet answered 202 is in the database, whichever release answered it.
      expect(await storedBetIds()).toEqual(expect.arrayContaining(report.accepted));
      // ws said it was going away (1001); the page's client went reconnecting, was live again by itself
      // (it subscribed anew), and got ticks from the new ws.
      expect(report.closes).toContain(1001);
      expect(report.states).toContain("reconnecting");
      expect(report.states.slice(report.states.indexOf("reconnecting"))).toContain("live");
      expect(report.ticksAfterReconnect).toBeGreaterThan(0);
      await expectRestartedOneAtATime(install.stderr);
    } finally {
      writeFileSync(stop, "");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  test("rotating a password: delete its file and install again; Redis loads the new ACL without a restart", async () => {
    const redisPid = await show("redis-server.service", "MainPID");
    const old = await sh("head -n1 /etc/tap-trading/redis-ws.password");
    await sh("rm /etc/tap-trading/redis-ws.password");
    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(install.code).toBe(0);
    expect(await sh("head -n1 /etc/tap-trading/redis-ws.password")).not.toBe(old);
    expect(await show("redis-server.service", "MainPID")).toBe(redisPid);
    expect(await sh(`REDISCLI_AUTH='${old}' redis-cli --no-auth-warning --user tap-ws PING 2>&1 || true`)).toContain("WRONGPASS");
    await waitFor("ws connected with its new password", async () => {
      await expectRedisLocked();
      return true;
    });
    await expectSmokeOk();
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
    await expectRedisLocked();
  }, 90_000);

  test("each install is a release of its own; the old layout (a folder /opt/app/bin) becomes a release, and the last 3 are kept", async () => {
    // Today's hosts have binaries in a real folder: make this one so, from the active release.
    const active = await sh("readlink /opt/app/bin");
    expect(active).toStartWith("/opt/app/releases/");
    await sh(`rm /opt/app/bin /opt/app/web && cp -a ${active} /opt/app/bin && mv /opt/app/bin/web /opt/app/web && rm -rf /opt/app/bin/systemd`);
    const page = await sh("curl -sS http://localhost/");
    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toMatch(/moving the binaries of \/opt\/app\/bin to the release \S+-migrated/);
    const releases = (await sh("ls /opt/app/releases")).split("\n");
    expect(releases).toHaveLength(3);
    expect(releases).toEqual([...releases].sort());
    expect(await sh("readlink /opt/app/bin")).toBe(`/opt/app/releases/${releases.at(-1)}`);
    expect(await sh("cat /opt/app/bin/VERSION")).toBe(releases.at(-1)!);
    // The page is the release's too: nginx's root follows it.
    expect(await sh("readlink /opt/app/web")).toBe(`/opt/app/releases/${releases.at(-1)}/web`);
    expect(await sh("curl -sS http://localhost/")).toBe(page);
    for (const unit of UNITS) expect(await show(unit, "ExecStart")).toContain("path=/opt/app/bin/");
    expect(await show("tap-trading-api.service", "RestartPreventExitStatus")).toBe("78");
    await allActive();
    await expectSmokeOk();
  }, 120_000);

  test("a broken release (the api exits 78 on a bad setting) fails the install, with its journal, and the previous release serves on with the bets", async () => {
    const before = await sh("readlink /opt/app/bin");
    const releases = await sh("ls /opt/app/releases");
    const apiPid = await show("tap-trading-api.service", "MainPID");
    // v3: the same binaries, the api's unit with a value its config refuses.
    await sh(
      `rm -rf /root/v3-units && cp -r ${SANDBOX_SOURCE}/systemd /root/v3-units && sed -i 's/^Environment=LOG_LEVEL=info$/Environment=LOG_LEVEL=bogus/' /root/v3-units/tap-trading-api.service && grep -c LOG_LEVEL=bogus /root/v3-units/tap-trading-api.service`,
    );
    const started = performance.now();
    const install = await sandbox.exec(["env", "TAP_UNIT_DIR=/root/v3-units", "TAP_RELEASE=v3", `${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 150_000 });
    console.log(`broken release: install exited ${install.code} after ${((performance.now() - started) / 1000).toFixed(1)} s, rolled back:\n${install.stderr.split("\n").filter((line) => line.startsWith("install:")).join("\n")}`);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain("tap-trading-api.service failed");
    expect(install.stderr).toContain("the last lines of tap-trading-api.service's journal:");
    expect(install.stderr).toContain("LOG_LEVEL"); // the api's own line naming the bad variable
    expect(install.stderr).toMatch(/going back to \S+/);
    // Back where it was: the same release, its units (no bogus level), every service ready.
    expect(await sh("readlink /opt/app/bin")).toBe(before);
    expect(await sh("ls /opt/app/releases")).toBe(releases);
    expect(await show("tap-trading-api.service", "Environment")).not.toContain("bogus");
    expect(await show("tap-trading-api.service", "MainPID")).not.toBe(apiPid);
    await allActive();
    await expectSmokeOk();
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  }, 180_000);

  test("deploy/rollback.sh goes back one release, restarted and ready, the bets kept", async () => {
    const releases = (await sh("ls /opt/app/releases")).split("\n");
    expect(await sh("readlink /opt/app/bin")).toBe(`/opt/app/releases/${releases.at(-1)}`);
    expect(await sh(`${SANDBOX_SOURCE}/deploy/rollback.sh --list`)).toBe([...releases.slice(0, -1), `${releases.at(-1)} (active)`].join("\n"));
    const ids = await Promise.all(UNITS.map((unit) => show(unit, "InvocationID")));
    const rollback = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/rollback.sh`], { timeoutMs: 120_000 });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await sh("readlink /opt/app/bin")).toBe(`/opt/app/releases/${releases.at(-2)}`);
    expect(await sh("readlink /opt/app/web")).toBe(`/opt/app/releases/${releases.at(-2)}/web`);
    for (const [i, unit] of UNITS.entries()) expect(await show(unit, "InvocationID")).not.toBe(ids[i]);
    await allActive();
    await expectSmokeOk();
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  }, 120_000);

  test("with Redis on another host (REDIS_URL), the units neither want nor start the local one, which may be masked", async () => {
    // "Another host": a second redis-server on its own port, reached by a name, with the users
    // the operator loads there (deploy/redis/render-acl.sh, as docs/deployment.md says).
    await sh("grep -q redis.internal /etc/hosts || echo '127.0.0.1 redis.internal' >> /etc/hosts");
    await sh(`bash ${SANDBOX_SOURCE}/deploy/redis/render-acl.sh /etc/tap-trading > /root/remote.acl`);
    await sh("systemd-run --unit=remote-redis redis-server --port 6390 --bind 127.0.0.1 --aclfile /root/remote.acl --save '' --appendonly no");
    const remoteAs = (user: string, command: string) => sh(`REDISCLI_AUTH=$(head -n1 /etc/tap-trading/redis-${user}.password) redis-cli --no-auth-warning -p 6390 --user tap-${user} ${command}`);
    await waitFor("the remote Redis answers", async () => (await remoteAs("admin", "PING").catch(() => "")) === "PONG");
    await sh("printf 'REDIS_URL=redis://redis.internal:6390\\n' >> /etc/tap-trading/tap-trading.env");
    await sh("systemctl stop redis-server.service && systemctl mask redis-server.service");

    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain("api uses the Redis at redis.internal");
    for (const unit of UNITS) {
      expect({ unit, wants: await show(unit, "Wants") }).not.toMatchObject({ wants: expect.stringContaining("redis-server") });
      expect({ unit, state: await show(unit, "ActiveState") }).toEqual({ unit, state: "active" });
    }
    expect(await sh("ls /etc/systemd/system/tap-trading-api.service.d 2>/dev/null | wc -l")).toBe("0");
    expect(await show("redis-server.service", "ActiveState")).toBe("inactive");
    const clients = await remoteAs("admin", "CLIENT LIST");
    for (const name of SERVICES) expect(clients).toContain(`user=tap-${name} `);
    await expectSmokeOk();

    // The local one wanted again while it is still masked: the install stops before any
    // service is touched, and the release it was making is not left behind.
    await sh("sed -i '/^REDIS_URL=/d' /etc/tap-trading/tap-trading.env");
    const [active, releases, apiId] = [await sh("readlink /opt/app/bin"), await sh("ls -A /opt/app/releases"), await show("tap-trading-api.service", "InvocationID")];
    const refused = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("redis-server.service is masked, but api ws price use this host's Redis");
    expect(await sh("readlink /opt/app/bin")).toBe(active);
    expect(await sh("ls -A /opt/app/releases")).toBe(releases);
    expect(await show("tap-trading-api.service", "InvocationID")).toBe(apiId);

    // Back to the local one: the drop-ins come back and the services are on it again.
    await sh("systemctl unmask redis-server.service");
    const back = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    for (const unit of UNITS) {
      expect(await show(unit, "Wants")).toContain("redis-server.service");
      expect(await show(unit, "After")).toContain("redis-server.service");
    }
    await sh("systemctl stop remote-redis.service");
    await allActive();
    await waitFor("the services connected to the local Redis again", async () => {
      await expectRedisLocked();
      return true;
    });
    await expectSmokeOk();
    expect(await storedBetIds()).toEqual(expect.arrayContaining(betIds));
  }, 180_000);

  test("a Redis with only a password (requirepass, no users of ours) on another port: REDIS_URL=redis://:pw@127.0.0.1:PORT, then rediss://, wins over the units' ACL users; ready, a bet placed, the password in no log line at debug", async () => {
    const password = "requirepass-only-5f2c9a71d3e8";
    // The operator's Redis: plain on 6391 and TLS on 6392 (a self-signed certificate, trusted as a private CA).
    await sh(
      "install -d -m 0700 /root/password-redis && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout /root/password-redis/key.pem -out /root/password-redis/cert.pem 2>/dev/null",
    );
    await sh(
      `printf 'port 6391\\ntls-port 6392\\nbind 127.0.0.1\\ntls-cert-file /root/password-redis/cert.pem\\ntls-key-file /root/password-redis/key.pem\\ntls-auth-clients no\\nrequirepass ${password}\\nsave ""\\nappendonly no\\n' > /root/password-redis/redis.conf && systemd-run --unit=password-redis redis-server /root/password-redis/redis.conf`,
    );
    const remote = (command: string) => sh(`REDISCLI_AUTH=${password} redis-cli --no-auth-warning -p 6391 ${command}`);
    await waitFor("the password-only Redis answers", async () => (await remote("PING").catch(() => "")) === "PONG");
    expect(await sh("redis-cli -p 6391 PING 2>&1 || true")).toStartWith("NOAUTH");
    const installWith = async (url: string) => {
      await sh(`touch /etc/tap-trading/tap-trading.env && sed -i '/^REDIS_URL=/d' /etc/tap-trading/tap-trading.env && printf 'REDIS_URL=${url}\\n' >> /etc/tap-trading/tap-trading.env`);
      const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
      expect(install.code, install.stderr).toBe(0);
      expect(install.stderr).not.toContain(password);
      return install.stderr;
    };
    /** The services' connections to the operator's Redis on `port`: the URL's password, as its default user. */
    const clientsOn = async (port: number) => (await remote("CLIENT LIST")).split("\n").filter((line) => line.includes(`laddr=127.0.0.1:${port} `) && line.includes(" name=tap-trading:"));
    await sh("printf 'LOG_LEVEL=debug\\n' >> /etc/tap-trading/tap-trading.env");
    try {
      const plain = await installWith(`redis://:${password}@127.0.0.1:6391`);
      for (const name of SERVICES) expect(plain).toContain(`${name} uses the Redis at 127.0.0.1:6391 with the credentials in its REDIS_URL, not this host's redis-server`);
      for (const unit of UNITS) {
        expect({ unit, wants: await show(unit, "Wants") }).not.toMatchObject({ wants: expect.stringContaining("redis-server") });
        // The units still name their ACL user and password file: the URL's credentials win over them.
        expect(await show(unit, "Environment")).toContain("REDIS_USERNAME=tap-");
      }
      const plainClients = await clientsOn(6391);
      expect(plainClients.length).toBeGreaterThanOrEqual(SERVICES.length);
      for (const client of plainClients) expect(client).toContain(" user=default ");
      await expectSmokeOk();
      expect(await placeBet(await newSession())).toBeTruthy();

      // rediss://: the same server's TLS port, its certificate given to the services as a CA.
      await sh("install -m 0644 /root/password-redis/cert.pem /etc/tap-trading/password-redis-ca.pem && printf 'NODE_EXTRA_CA_CERTS=/etc/tap-trading/password-redis-ca.pem\\n' >> /etc/tap-trading/tap-trading.env");
      const tls = await installWith(`rediss://:${password}@127.0.0.1:6392`);
      expect(tls).toContain("api uses the Redis at 127.0.0.1:6392 with the credentials in its REDIS_URL");
      expect((await clientsOn(6392)).length).toBeGreaterThanOrEqual(SERVICES.length);
      expect(await clientsOn(6391)).toEqual([]);
      await expectSmokeOk();
      expect(await placeBet(await newSession())).toBeTruthy();

      // At debug, the URL is logged without its password (the api's "api listening" line), and the password nowhere.
      const journal = await sh("journalctl -u 'tap-trading-*' -o cat --no-pager");
      expect(journal).toContain('"redis":"rediss://***@127.0.0.1:6392"');
      expect(journal).not.toContain(password);
    } finally {
      await sh("sed -i -e '/^REDIS_URL=/d' -e '/^LOG_LEVEL=/d' -e '/^NODE_EXTRA_CA_CERTS=/d' /etc/tap-trading/tap-trading.env");
    }
    // Back to the local one.
    const back = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    await sh("systemctl stop password-redis.service");
    await allActive();
    await waitFor("the services connected to the local Redis again", async () => {
      await expectRedisLocked();
      return true;
    });
    await expectSmokeOk();
  }, 300_000);

  test("--domain: the HTTP site answers certbot's challenges until a certificate is there, then HTTPS (HSTS, 80 redirecting, wss), kept by the next install; --no-domain goes back", async () => {
    const install = (...args: string[]) => sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`, ...args], { timeoutMs: 120_000 });
    // No certificate at certbot's place yet: the HTTP site, serving the webroot's challenges.
    const first = await install("--domain", "play.example.test");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("no certificate for play.example.test yet");
    await sh("install -d /var/www/letsencrypt/.well-known/acme-challenge && echo token-42 > /var/www/letsencrypt/.well-known/acme-challenge/t42");
    expect(await sh("curl -sS http://localhost/.well-known/acme-challenge/t42")).toBe("token-42");
    expect(await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")).toBe("200");

    const selfSigned = (key: string, cert: string) => `openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout ${key} -out ${cert} 2>/dev/null && chmod 0600 ${key}`;
    /** HTTPS answered with the certificate `ca` (curl trusts only it), HSTS, 80 redirecting, and a websocket over TLS. */
    const expectHttps = async (ca: string) => {
      expect(await sh(`curl -sS --cacert ${ca} -o /dev/null -w '%{http_code}' https://localhost/api/healthz`)).toBe("200");
      expect((await sh(`curl -sSI --cacert ${ca} https://localhost/`)).toLowerCase()).toContain("strict-transport-security: max-age=63072000");
      expect(await sh("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://localhost/api/healthz")).toBe("301 https://localhost/api/healthz");
      // The websocket's upgrade over TLS (wss://).
      const upgrade = await sh(
        `curl -s --cacert ${ca} --http1.1 --max-time 2 -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' https://localhost/ws || true`,
      );
      expect(upgrade).toBe("101");
      expect((await sh("ss -ltnH")).split("\n").map((line) => line.trim().split(/\s+/)[3])).toContain("0.0.0.0:443");
    };

    // certbot's files, where certbot puts them (live/<domain>/ links into archive/<domain>/), and
    // --domain alone: the installer finds them there.
    const live = "/etc/letsencrypt/live/localhost";
    await sh(
      `install -d -m 0700 /etc/letsencrypt/archive/localhost /etc/letsencrypt/live && install -d -m 0755 ${live} && ${selfSigned("/etc/letsencrypt/archive/localhost/privkey1.pem", "/etc/letsencrypt/archive/localhost/fullchain1.pem")} && ln -sfn ../../archive/localhost/fullchain1.pem ${live}/fullchain.pem && ln -sfn ../../archive/localhost/privkey1.pem ${live}/privkey.pem`,
    );
    const certbot = await install("--domain", "localhost");
    expect(certbot.code, certbot.stderr).toBe(0);
    expect(certbot.stderr).not.toContain("no certificate for localhost yet");
    expect(await sh(`grep -c 'ssl_certificate ${live}/fullchain.pem;' /etc/nginx/sites-available/tap-trading.conf`)).toBe("1");
    await expectHttps(`${live}/fullchain.pem`);

    // A certificate of one's own (another self-signed one): HTTPS with it.
    await sh(`install -d -m 0755 /etc/ssl/tap && ${selfSigned("/etc/ssl/tap/privkey.pem", "/etc/ssl/tap/fullchain.pem")}`);
    const tls = await install("--domain", "localhost", "--cert", "/etc/ssl/tap/fullchain.pem", "--key", "/etc/ssl/tap/privkey.pem");
    expect(tls.code, tls.stderr).toBe(0);
    await expectHttps("/etc/ssl/tap/fullchain.pem");
    // The two certificates differ: curl trusting only certbot's refuses the one served now.
    expect(await sh(`curl -s --cacert ${live}/fullchain.pem -o /dev/null https://localhost/api/healthz; echo "exit=$?"`)).not.toBe("exit=0");
    // An install without options keeps the site as it was.
    const again = await install();
    expect(again.code, again.stderr).toBe(0);
    await expectHttps("/etc/ssl/tap/fullchain.pem");
    expect(await sh("grep -c 'ssl_certificate /etc/ssl/tap/fullchain.pem;' /etc/nginx/sites-available/tap-trading.conf")).toBe("1");

    const back = await install("--no-domain");
    expect(back.code, back.stderr).toBe(0);
    expect(await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")).toBe("200");
    expect(await sh("test -e /etc/tap-trading/site.env && echo present || echo gone")).toBe("gone");
    await expectSmokeOk();
  }, 300_000);

  /** The installed site's nodes: each upstream's `server` addresses, in order. */
  const installedNodes = async () => {
    const site = await sh("cat /etc/nginx/sites-available/tap-trading.conf");
    const nodes = (upstream: string) => {
      const block = site.match(new RegExp(`^upstream ${upstream} \\{\n([^}]*)^\\}`, "m"))?.[1];
      if (block === undefined) throw new Error(`the installed site has no upstream ${upstream}:\n${site}`);
      return [...block.matchAll(/^\s*server (\S+) [^;]*;$/gm)].map(([, address]) => address);
    };
    return { api: nodes("tap_trading_api"), ws: nodes("tap_trading_ws") };
  };
  const siteEnv = () => sh("cat /etc/tap-trading/site.env 2>/dev/null || echo '(none)'");
  // The local nodes and one more each where nothing listens: nginx tries it, is refused,
  // and sends the request (even a POST, never sent) to the local node, so the site still serves.
  const NODES = { api: ["127.0.0.1:8080", "127.0.0.1:18080"], ws: ["127.0.0.1:8081", "127.0.0.1:18081"] };
  const LOCAL = { api: ["127.0.0.1:8080"], ws: ["127.0.0.1:8081"] };

  test("--api-upstreams / --ws-upstreams: one server line per node, kept in site.env by the next install; a bad address is refused (64) before any change", async () => {
    const install = (...args: string[]) => sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`, ...args], { timeoutMs: 120_000 });
    expect(await installedNodes()).toEqual(LOCAL);
    // Commas or spaces, as render-site.sh takes them; kept with one space between nodes.
    const first = await install("--api-upstreams", NODES.api.join(" "), "--ws-upstreams", NODES.ws.join(","));
    expect(first.code, first.stderr).toBe(0);
    expect(await installedNodes()).toEqual(NODES);
    expect((await siteEnv()).split("\n").slice(1)).toEqual([`API_UPSTREAMS="${NODES.api.join(" ")}"`, `WS_UPSTREAMS="${NODES.ws.join(" ")}"`]);
    expect(await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz")).toBe("200");

    const again = await install();
    expect(again.code, again.stderr).toBe(0);
    expect(await installedNodes()).toEqual(NODES);
    await expectSmokeOk();

    // Refused before anything changes: the site, site.env, the releases and the running api stay.
    const state = async () => [await sh("sha256sum /etc/nginx/sites-available/tap-trading.conf"), await siteEnv(), await sh("ls /opt/app/releases"), await show("tap-trading-api.service", "InvocationID")];
    const before = await state();
    for (const refused of [
      await install("--api-upstreams", "127.0.0.1:8080 10.0.0.12"), // no port
      await install("--ws-upstreams", "127.0.0.1:8081 127.0.0.1:8081"), // a node twice
      await sandbox.exec(["env", "API_UPSTREAMS=127.0.0.1:99999", `${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 60_000 }), // no such port
      await install("--local-nodes", "--api-upstreams", NODES.api.join(" ")), // a contradiction
    ]) {
      expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 64, stderr: expect.stringMatching(/^(render-site: |usage: )/) });
    }
    expect(await state()).toEqual(before);
  }, 240_000);

  test("the lists stay beside --domain (its HTTP stand-in before the certificate, then HTTPS) and --no-domain; API_UPSTREAMS in the environment works as the option; --local-nodes goes back to one local node", async () => {
    const install = (...args: string[]) => sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`, ...args], { timeoutMs: 120_000 });
    const three = [...NODES.api, "127.0.0.1:18082"];
    // A domain without its certificate: the HTTP site that stands in for it has the lists too
    // (the api's from the environment, the ws' kept).
    const pending = await sandbox.exec(["env", `API_UPSTREAMS=${three.join(" ")}`, `${SANDBOX_SOURCE}/deploy/install.sh`, "--domain", "play.example.test"], { timeoutMs: 120_000 });
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.stderr).toContain("no certificate for play.example.test yet");
    expect(await installedNodes()).toEqual({ api: three, ws: NODES.ws });
    expect(await sh("grep -c 'ssl_certificate' /etc/nginx/sites-available/tap-trading.conf || true")).toBe("0");
    expect(await siteEnv()).toContain("DOMAIN=play.example.test\n");

    // HTTPS for a domain with its certificate (self-signed, made by the --domain test or here).
    await sh(
      "test -s /etc/ssl/tap/fullchain.pem || { install -d -m 0755 /etc/ssl/tap && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout /etc/ssl/tap/privkey.pem -out /etc/ssl/tap/fullchain.pem 2>/dev/null && chmod 0600 /etc/ssl/tap/privkey.pem; }",
    );
    const tls = await install("--domain", "localhost", "--cert", "/etc/ssl/tap/fullchain.pem", "--key", "/etc/ssl/tap/privkey.pem", "--api-upstreams", NODES.api.join(" "));
    expect(tls.code, tls.stderr).toBe(0);
    expect(await installedNodes()).toEqual(NODES);
    expect(await sh("grep -c 'ssl_certificate /etc/ssl/tap/fullchain.pem;' /etc/nginx/sites-available/tap-trading.conf")).toBe("1");
    expect(await sh("curl -sS --cacert /etc/ssl/tap/fullchain.pem -o /dev/null -w '%{http_code}' https://localhost/api/healthz")).toBe("200");
    expect((await siteEnv()).split("\n").slice(1)).toEqual([
      "DOMAIN=localhost",
      "CERT=/etc/ssl/tap/fullchain.pem",
      "KEY=/etc/ssl/tap/privkey.pem",
      `API_UPSTREAMS="${NODES.api.join(" ")}"`,
      `WS_UPSTREAMS="${NODES.ws.join(" ")}"`,
    ]);

    // Back to HTTP: the domain's lines go, the lists stay.
    const http = await install("--no-domain");
    expect(http.code, http.stderr).toBe(0);
    expect(await installedNodes()).toEqual(NODES);
    expect(await sh("grep -c 'ssl_certificate' /etc/nginx/sites-available/tap-trading.conf || true")).toBe("0");
    expect((await siteEnv()).split("\n").slice(1)).toEqual([`API_UPSTREAMS="${NODES.api.join(" ")}"`, `WS_UPSTREAMS="${NODES.ws.join(" ")}"`]);

    // The one local node again; with nothing else to keep, site.env goes.
    const local = await install("--local-nodes");
    expect(local.code, local.stderr).toBe(0);
    expect(await installedNodes()).toEqual(LOCAL);
    expect(await siteEnv()).toBe("(none)");
    await expectSmokeOk();
  }, 300_000);

  test("a release that never becomes ready (its api's Redis a closed port) fails the install after TAP_READY_TIMEOUT_S, is rolled back automatically, and the previous release serves", async () => {
    const before = await sh("readlink /opt/app/bin");
    const releases = await sh("ls /opt/app/releases");
    // v4: the same binaries, the api's unit pointing at a port where no Redis listens: it runs, never ready.
    await sh(
      `rm -rf /root/v4-units && cp -r ${SANDBOX_SOURCE}/systemd /root/v4-units && sed -i 's/^Environment=REDIS_ADDR=localhost:6379$/Environment=REDIS_ADDR=127.0.0.1:1/' /root/v4-units/tap-trading-api.service && grep -c REDIS_ADDR=127.0.0.1:1 /root/v4-units/tap-trading-api.service`,
    );
    const install = await sandbox.exec(["env", "TAP_UNIT_DIR=/root/v4-units", "TAP_RELEASE=v4", "TAP_READY_TIMEOUT_S=10", `${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 150_000 });
    console.log(`a release never ready: install exited ${install.code}:\n${install.stderr.split("\n").filter((line) => line.startsWith("install:")).join("\n")}`);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain("install: tap-trading-api.service did not answer http://127.0.0.1:8080/readyz within 10 s");
    expect(install.stderr).toContain("the last lines of tap-trading-api.service's journal:");
    const previous = before.slice(before.lastIndexOf("/") + 1);
    expect(install.stderr).toContain(`going back to ${previous}`);
    expect(install.stderr).toContain(`back on release ${previous}, ready`);
    expect(install.stderr).toMatch(/release \S+-v4 failed its readiness checks and was removed/);
    expect(await sh("readlink /opt/app/bin")).toBe(before);
    expect(await sh("ls /opt/app/releases")).toBe(releases);
    expect(await show("tap-trading-api.service", "Environment")).toContain("REDIS_ADDR=localhost:6379");
    await allActive();
    await expectSmokeOk();
    expect(await placeBet(await newSession())).toBeTruthy();
  }, 180_000);

  test("the uninstaller removes the services, puts Debian's files back and keeps /data and the secrets; a reinstall keeps players' tokens valid", async () => {
    await sh(`${SANDBOX_SOURCE}/deploy/uninstall.sh`, 60_000);
    for (const unit of [...UNITS, "tap-trading-backup.timer", "tap-trading-backup.service"]) expect(await show(unit, "LoadState")).toBe("not-found");
    expect(await sh("test -e /opt/app && echo present || echo gone")).toBe("gone");
    expect(await sh("test -f /data/bets.db && echo kept")).toBe("kept");
    expect(await sh("ls /data/backups | grep -c '^bets-'")).not.toBe("0");
    expect(await sh("curl -s -o /dev/null -w '%{http_code}' http://localhost/api/healthz || true")).not.toBe("200");
    // Redis's users went with their passwords: redis-server is back to Debian's default user.
    expect(await sh("grep -c '^aclfile' /etc/redis/redis.conf || true")).toBe("0");
    expect(await sh("test -e /etc/redis/tap-trading.acl && echo present || echo gone")).toBe("gone");
    expect(await sh("redis-cli PING")).toBe("PONG");
    expect(await sh("redis-cli CONFIG GET maxmemory")).toBe("maxmemory\n0");
    // nginx.conf and redis.conf as Debian shipped them, and its default site enabled again.
    expect(await sh(DISTRO_FILES)).toBe(distroFilesBefore);
    expect(await sh("test -e /etc/redis/tap-trading.conf && echo present || echo gone")).toBe("gone");
    // certbot's webroot was the installer's (this image has none).
    expect(await sh("test -e /var/www/letsencrypt && echo present || echo gone")).toBe("gone");
    expect(await show("nginx.service", "ActiveState")).toBe("active");
    expect(await sh("curl -s http://localhost/")).toContain("Welcome to nginx");
    // The secrets stay (the session secret signs the players' tokens).
    expect(await sh("test -s /etc/tap-trading/session-secret && echo kept")).toBe("kept");

    const reinstall = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    expect(reinstall.code, reinstall.stderr).toBe(0);
    const mine = await sh(`curl -sS -w '\\n%{http_code}' -H 'authorization: Bearer ${sessionToken}' http://localhost/api/bets`);
    expect(mine.slice(mine.lastIndexOf("\n") + 1)).toBe("200");
    const listed = (JSON.parse(mine.slice(0, mine.lastIndexOf("\n"))) as { bets: { bet_id: string }[] }).bets.map((bet) => bet.bet_id);
    expect(listed).toEqual(expect.arrayContaining(betIds));

    await sh(`${SANDBOX_SOURCE}/deploy/uninstall.sh --purge-data`, 60_000);
    expect(await sh("test -e /data && echo present || echo gone")).toBe("gone");
    expect(await sh("test -e /etc/tap-trading && echo present || echo gone")).toBe("gone");
    expect(await sh(DISTRO_FILES)).toBe(distroFilesBefore);
    expect(await sh("getent passwd app || echo none")).toBe("none");
    // Two uninstalls and an install (up to 120 s, its services each waited for until ready).
  }, 240_000);
});
