/**
 * The systemd units as files: what the plan asks of each, and the hardening
 * rating `systemd-analyze security --offline` gives them (no root, no running
 * systemd needed; the sandbox test rates the loaded units too).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

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

  test("starts after the network and Redis, with the production environment and optional overrides", () => {
    expect(d.get("After")?.join(" ")).toContain("network.target");
    expect(d.get("After")?.join(" ")).toContain("redis-server.service");
    const environment = d.get("Environment") ?? [];
    expect(environment).toContain("LOG_LEVEL=info");
    expect(environment).toContain("REDIS_ADDR=localhost:6379");
    if (service === "api") expect(environment).toContain("DB_PATH=/data/bets.db");
    // Optional ("-"): a missing file is no error.
    expect(d.get("EnvironmentFile")).toEqual(["-/etc/tap-trading/tap-trading.env", `-/etc/tap-trading/${service}.env`]);
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
