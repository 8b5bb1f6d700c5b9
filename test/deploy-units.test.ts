/**
 * The systemd units as files: what the plan asks of each, and the hardening
 * rating `systemd-analyze security --offline` gives them (no root, no running
 * systemd needed; the sandbox test rates the loaded units too). The backup's
 * service and timer are also checked by `systemd-analyze verify` and `calendar`.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_KEEP } from "../api/backup/command.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");
const SERVICES = ["api", "ws", "price"] as const;

/** Each `Key=value` of a unit file, by key, in order. */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(join(ROOT, "systemd", unit), "utf8").split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    map.set(key, [...(map.get(key) ?? []), value]);
  }
  return map;
}

/** How long a service may take to stop on SIGTERM, from the constant in its main.ts. */
function gracefulStopMs(service: string): number {
  const source = readFileSync(join(ROOT, service, "main.ts"), "utf8");
  const match = /const (?:DRAIN_MS|STOP_MS) = ([\d_]+);/.exec(source);
  return match ? Number(match[1]!.replaceAll("_", "")) : 0;
}

describe.each(SERVICES)("systemd/tap-trading-%s.service", (service) => {
  const unit = `tap-trading-${service}.service`;
  const d = directives(unit);

  test("runs /opt/app/bin/<name> as app:app from /opt/app, restarted always after 5 s", () => {
    expect(d.get("User")).toEqual(["app"]);
    expect(d.get("Group")).toEqual(["app"]);
    expect(d.get("WorkingDirectory")).toEqual(["/opt/app"]);
    expect(d.get("ExecStart")).toEqual([`/opt/app/bin/${service}`]);
    expect(d.get("Restart")).toEqual(["always"]);
    expect(d.get("RestartSec")).toEqual(["5"]);
    expect(d.get("WantedBy")).toEqual(["multi-user.target"]);
  });

  test("a bad setting (exit 78) is not restarted, and a unit failing to start again and again stays failed", () => {
    expect(d.get("RestartPreventExitStatus")).toEqual(["78"]);
    // common/config.ts exits with the status the unit names.
    expect(readFileSync(join(ROOT, "common", "config.ts"), "utf8")).toMatch(/^const EXIT_CONFIG = 78;$/m);
    const burst = Number(d.get("StartLimitBurst")?.[0]);
    const intervalS = Number(d.get("StartLimitIntervalSec")?.[0]);
    expect(burst).toBeGreaterThan(1);
    // Restarts every RestartSec would reach the burst within the interval: the limit can be hit.
    expect(intervalS).toBeGreaterThanOrEqual(burst * Number(d.get("RestartSec")?.[0]));
  });

  test("starts after the network, with the production environment and optional overrides", () => {
    expect(d.get("After")?.join(" ")).toContain("network.target");
    const environment = d.get("Environment") ?? [];
    expect(environment).toContain("LOG_LEVEL=info");
    expect(environment).toContain("REDIS_ADDR=localhost:6379");
    if (service === "api") expect(environment).toContain("DB_PATH=/data/bets.db");
    // Optional ("-"): a missing file is no error.
    expect(d.get("EnvironmentFile")).toEqual(["-/etc/tap-trading/tap-trading.env", `-/etc/tap-trading/${service}.env`]);
  });

  test("neither wants nor waits for the local redis-server itself: deploy/install.sh adds both in a drop-in, only for a local Redis", () => {
    // Redis may live on another host (REDIS_URL): a Wants= here would start a local one at every restart.
    expect(d.has("Wants")).toBe(false);
    expect(d.has("Requires")).toBe(false);
    expect(d.get("After")?.join(" ")).not.toContain("redis-server");
    const install = readFileSync(join(ROOT, "deploy", "install.sh"), "utf8");
    expect(install).toContain("[Unit]\\nWants=redis-server.service\\nAfter=redis-server.service\\n");
    expect(install).toContain('"$dropin/redis-local.conf"');
  });

  test("connects to Redis as its own ACL user, with its password and the tick-signing key as systemd credentials", () => {
    const environment = d.get("Environment") ?? [];
    expect(environment).toContain(`REDIS_USERNAME=tap-${service}`);
    expect(environment).toContain("REDIS_PASSWORD_FILE=%d/redis-password");
    expect(environment).toContain("PRICE_SIGNING_KEY_FILE=%d/price-signing-key");
    expect(d.get("LoadCredential")).toEqual([`redis-password:/etc/tap-trading/redis-${service}.password`, "price-signing-key:/etc/tap-trading/price-signing-key"]);
    // The user the unit names is the one deploy/redis/users.acl gives this service's password to.
    const acl = readFileSync(join(ROOT, "deploy", "redis", "users.acl"), "utf8");
    expect(new RegExp(`^user (\\S+) .*@${service}-password-sha256@`, "m").exec(acl)?.[1]).toBe(`tap-${service}`);
  });

  test("gives the graceful shutdown longer than it takes", () => {
    const timeoutS = Number(d.get("TimeoutStopSec")?.[0]);
    expect(timeoutS * 1000).toBeGreaterThan(gracefulStopMs(service));
    if (service !== "ws") expect(gracefulStopMs(service)).toBeGreaterThan(0);
  });

  test("is hardened: read-only system, only /data writable (api alone), no privileges", () => {
    expect(d.get("NoNewPrivileges")).toEqual(["yes"]);
    expect(d.get("ProtectSystem")).toEqual(["strict"]);
    expect(d.get("ReadWritePaths")).toEqual(service === "api" ? ["/data"] : undefined);
    expect(d.get("PrivateTmp")).toEqual(["yes"]);
    expect(d.get("ProtectHome")).toEqual(["yes"]);
    expect(d.get("CapabilityBoundingSet")).toEqual([""]);
    // Bun's JIT needs writable executable memory.
    expect(d.has("MemoryDenyWriteExecute")).toBe(false);
  });

  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze security rates it OK or better (exposure <= 4.0)", () => {
    const analyze = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", "--no-pager", join(ROOT, "systemd", unit)], { stdout: "pipe", stderr: "pipe" });
    const overall = /Overall exposure level for \S+: ([\d.]+)/.exec(analyze.stdout.toString());
    expect(overall, analyze.stderr.toString()).not.toBeNull();
    expect(Number(overall![1])).toBeLessThanOrEqual(4.0);
  });
});

describe("systemd/tap-trading-backup.service and .timer", () => {
  const service = directives("tap-trading-backup.service");
  const timer = directives("tap-trading-backup.timer");
  const api = directives("tap-trading-api.service");

  test("the service runs `api backup` once as app:app, on the API's database and its settings", () => {
    expect(service.get("Type")).toEqual(["oneshot"]);
    expect(service.get("User")).toEqual(["app"]);
    expect(service.get("Group")).toEqual(["app"]);
    expect(service.get("WorkingDirectory")).toEqual(["/opt/app"]);
    expect(service.get("ExecStart")).toEqual(["/opt/app/bin/api backup"]);
    // The API's DB_PATH, and its env files before its own: an override of the database's place is followed.
    expect((service.get("Environment") ?? []).filter((line) => line.startsWith("DB_PATH="))).toEqual((api.get("Environment") ?? []).filter((line) => line.startsWith("DB_PATH=")));
    expect(service.get("EnvironmentFile")).toEqual(["-/etc/tap-trading/tap-trading.env", "-/etc/tap-trading/api.env", "-/etc/tap-trading/backup.env"]);
    expect(service.get("Environment")).toContain(`BACKUP_KEEP=${DEFAULT_KEEP}`);
    // Started by its timer only, never restarted in a loop.
    expect(service.has("WantedBy")).toBe(false);
    expect(service.has("Restart")).toBe(false);
  });

  test("the service is hardened as the API is, writes only /data, and has no network", () => {
    for (const key of ["NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices", "PrivateNetwork"]) expect({ key, value: service.get(key) }).toEqual({ key, value: ["yes"] });
    expect(service.get("ProtectSystem")).toEqual(["strict"]);
    expect(service.get("ReadWritePaths")).toEqual(["/data"]);
    expect(service.get("CapabilityBoundingSet")).toEqual([""]);
    expect(service.get("RestrictAddressFamilies")).toEqual(["AF_UNIX"]);
    expect(service.has("MemoryDenyWriteExecute")).toBe(false);
  });

  test("the timer starts it every six hours (UTC), catching up a run missed while the host was down", () => {
    expect(timer.get("OnCalendar")).toEqual(["*-*-* 00/6:00:00 UTC"]);
    expect(timer.get("Persistent")).toEqual(["true"]);
    expect(timer.get("Unit")).toEqual(["tap-trading-backup.service"]);
    expect(timer.get("WantedBy")).toEqual(["timers.target"]);
  });

  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze calendar reads four runs a day from the timer's schedule", () => {
    const calendar = Bun.spawnSync(["systemd-analyze", "calendar", "--iterations=5", timer.get("OnCalendar")![0]!], { stdout: "pipe", stderr: "pipe", env: { ...process.env, TZ: "UTC" } });
    expect(calendar.exitCode, calendar.stderr.toString()).toBe(0);
    const runs = [...calendar.stdout.toString().matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map(([, when]) => Date.parse(`${when!.replace(" ", "T")}Z`));
    expect(runs).toHaveLength(5);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBe(6 * 3_600_000);
    expect(runs.every((ms) => new Date(ms).getUTCHours() % 6 === 0)).toBe(true);
  });

  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze verify accepts both units (the binary stood in for)", () => {
    // verify wants ExecStart's program to exist: a stand-in at a temp path, the units otherwise as shipped.
    const dir = mkdtempSync(join(tmpdir(), "tap-units-"));
    try {
      writeFileSync(join(dir, "api"), "#!/bin/sh\n", { mode: 0o755 });
      const paths = ["tap-trading-backup.service", "tap-trading-backup.timer"].map((unit) => {
        const path = join(dir, unit);
        writeFileSync(path, readFileSync(join(ROOT, "systemd", unit), "utf8").replaceAll("/opt/app/bin/api", join(dir, "api")));
        return path;
      });
      const verify = Bun.spawnSync(["systemd-analyze", "verify", ...paths], { stdout: "pipe", stderr: "pipe" });
      expect({ code: verify.exitCode, out: `${verify.stdout}${verify.stderr}`.trim() }).toEqual({ code: 0, out: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze security rates the service OK or better (exposure <= 4.0)", () => {
    const analyze = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", "--no-pager", join(ROOT, "systemd", "tap-trading-backup.service")], { stdout: "pipe", stderr: "pipe" });
    const overall = /Overall exposure level for \S+: ([\d.]+)/.exec(analyze.stdout.toString());
    expect(overall, analyze.stderr.toString()).not.toBeNull();
    expect(Number(overall![1])).toBeLessThanOrEqual(4.0);
  });

  test("deploy/install.sh installs both units and enables the timer; deploy/uninstall.sh removes them", () => {
    const install = readFileSync(join(ROOT, "deploy", "install.sh"), "utf8");
    expect(install).toContain("backup_units=(tap-trading-backup.service tap-trading-backup.timer)");
    expect(install).toContain("systemctl enable --now tap-trading-backup.timer");
    const uninstall = readFileSync(join(ROOT, "deploy", "uninstall.sh"), "utf8");
    expect(uninstall).toMatch(/^units=\(tap-trading-backup\.timer tap-trading-backup\.service /m);
  });
});

describe("deploy/release.sh: what the installer reads from the site's settings", () => {
  /** Runs `call` with deploy/release.sh sourced and the settings files in a temp folder holding `files`. */
  function withSettings(files: Record<string, string>, call: string): string {
    const dir = mkdtempSync(join(tmpdir(), "tap-settings-"));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const script = `say() { :; }; die() { :; }; source "$1"; dir=$2; env_files_of() { printf '%s\\n' "$dir/tap-trading.env" "$dir/$1.env"; }; ${call}`;
      const run = Bun.spawnSync(["bash", "-c", script, "bash", join(ROOT, "deploy", "release.sh"), dir], { stdout: "pipe", stderr: "pipe" });
      expect(run.exitCode, run.stderr.toString()).toBe(0);
      return run.stdout.toString();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("a service's Redis host comes from REDIS_URL (which wins) or REDIS_ADDR, the service's file after the shared one", () => {
    expect(withSettings({}, "redis_host_of api")).toBe("localhost");
    expect(withSettings({ "tap-trading.env": "REDIS_ADDR=10.0.0.5:6379\n" }, "redis_host_of ws")).toBe("10.0.0.5");
    expect(withSettings({ "tap-trading.env": "REDIS_URL=rediss://tap:p@ss@redis.internal:6380/0\nREDIS_ADDR=localhost:6379\n" }, "redis_host_of api")).toBe("redis.internal");
    expect(withSettings({ "tap-trading.env": "REDIS_ADDR=10.0.0.5:6379\n", "price.env": "REDIS_ADDR=localhost:6390\n" }, "redis_host_of price; echo; redis_host_of api")).toBe("localhost\n10.0.0.5");
    expect(withSettings({ "api.env": 'REDIS_URL="redis://[::1]:6390"\n' }, "redis_host_of api")).toBe("::1");
  });

  test("a service uses this host's redis-server only on localhost and its port; a REDIS_URL's own credentials are seen", () => {
    const uses = (files: Record<string, string>) => withSettings(files, "uses_this_hosts_redis api 6379 && echo local || echo other").trim();
    expect(uses({})).toBe("local");
    expect(uses({ "tap-trading.env": "REDIS_ADDR=127.0.0.1:6379\n" })).toBe("local");
    expect(uses({ "tap-trading.env": "REDIS_URL=redis://[::1]\n" })).toBe("local");
    // Another port of this host is an operator's Redis of its own, not the distro's redis-server.
    expect(uses({ "tap-trading.env": "REDIS_URL=redis://:pw@127.0.0.1:6391\n" })).toBe("other");
    expect(uses({ "api.env": "REDIS_ADDR=localhost:6390\n" })).toBe("other");
    expect(uses({ "tap-trading.env": "REDIS_ADDR=10.0.0.5:6379\n" })).toBe("other");
    expect(withSettings({ "tap-trading.env": "REDIS_URL=rediss://u:p@ss@[fd00::5]:6380/0\n" }, "redis_authority_of api; echo; redis_port_of api")).toBe("[fd00::5]:6380\n6380");
    const credentials = (url: string) => withSettings({ "tap-trading.env": `REDIS_URL=${url}\n` }, "redis_url_has_credentials api && echo yes || echo no").trim();
    expect(credentials("redis://:pw@127.0.0.1:6391")).toBe("yes");
    expect(credentials("rediss://ops:pw@cache.internal:6380/0")).toBe("yes");
    expect(credentials("redis://127.0.0.1:6391")).toBe("no");
    expect(credentials("redis://:@127.0.0.1:6391")).toBe("no");
  });

  test("the backup unit reaches the API's PostgreSQL through a drop-in that opens the network to that host only; on SQLite there is none", () => {
    const dropin = (url: string | undefined) => withSettings(url === undefined ? {} : { "api.env": `DATABASE_URL=${url}\n` }, "backup_network_dropin");
    expect(dropin(undefined)).toBe("");
    // The API's own file wins, as for the unit.
    expect(withSettings({ "tap-trading.env": "DATABASE_URL=postgres://tap@10.0.0.9/tap\n", "api.env": "DB_PATH=/data/bets.db\n" }, "backup_network_dropin")).toContain("IPAddressAllow=10.0.0.9\n");
    const local = dropin("postgres://tap:secret@127.0.0.1:5432/tap");
    expect(local).toContain("[Service]\nPrivateNetwork=no\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\nIPAddressAllow=localhost\n");
    expect(local).not.toContain("secret");
    expect(dropin("postgres://u:p@[::1]:5432/x")).toContain("IPAddressAllow=localhost\n");
    expect(dropin("postgresql://10.0.0.5:5433/tap?sslmode=require")).toContain("IPAddressAllow=10.0.0.5\n");
    expect(dropin("postgres://u@[fd00::5]/x")).toContain("IPAddressAllow=fd00::5\n");
    // A name is resolved at connect time: no address can be named in advance.
    const named = dropin("postgres://tap@db.internal/tap");
    expect(named).toContain("IPAddressDeny=\n");
    expect(named).not.toContain("IPAddressAllow");
  });

  test.skipIf(!Bun.which("systemd-analyze"))("with the drop-in for a PostgreSQL elsewhere, the backup unit still rates OK or better (exposure <= 4.0)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-backup-unit-"));
    try {
      // A drop-in's lines after the unit's own, as systemd reads them.
      const unit = join(dir, "tap-trading-backup.service");
      const dropin = withSettings({ "api.env": "DATABASE_URL=postgres://tap@db.internal/tap\n" }, "backup_network_dropin");
      writeFileSync(unit, `${readFileSync(join(ROOT, "systemd", "tap-trading-backup.service"), "utf8")}\n${dropin}`);
      const analyze = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", "--no-pager", unit], { stdout: "pipe", stderr: "pipe" });
      const overall = /Overall exposure level for \S+: ([\d.]+)/.exec(analyze.stdout.toString());
      expect(overall, analyze.stderr.toString()).not.toBeNull();
      expect(Number(overall![1])).toBeLessThanOrEqual(4.0);
      // The drop-in took: the network is the unit's, not a private one.
      expect(analyze.stdout.toString()).toMatch(/✗ PrivateNetwork=/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("readiness is asked where each service listens: its HOST and PORT, 127.0.0.1 for every interface, else its unit's port", () => {
    // The defaults are the units' own ports.
    for (const service of SERVICES) {
      const port = directives(`tap-trading-${service}.service`).get("Environment")!.find((line) => line.startsWith("PORT="))!.slice(5);
      expect(withSettings({}, `ready_url_of ${service}`)).toBe(`http://127.0.0.1:${port}${service === "api" ? "/readyz" : "/healthz"}`);
    }
    expect(withSettings({ "tap-trading.env": "HOST=0.0.0.0\n", "api.env": "HOST=10.0.0.7\nPORT='9080'\n" }, "ready_url_of api; echo; ready_url_of ws")).toBe(
      "http://10.0.0.7:9080/readyz\nhttp://127.0.0.1:8081/healthz",
    );
    expect(withSettings({ "ws.env": "HOST=::1\n" }, "ready_url_of ws")).toBe("http://[::1]:8081/healthz");
  });
});
