/**
 * The deployment's numbers, measured on this machine: each compiled binary's
 * size, its cold start to the first healthy answer, its resident memory at
 * idle, and each systemd unit's `systemd-analyze security` exposure.
 *
 *   bun deploy/measure.ts          # builds dist/bin first when stale; 5 starts each
 *   bun deploy/measure.ts --runs 20
 *
 * Cold start: from spawn to the first 200 from /healthz (api, ws), or to its
 * Redis connection being up (price, which has no HTTP port; its first tick,
 * shown too, then waits for the next line of its 1 s grid), each on a fresh
 * database and a private redis-server. Idle RSS: VmRSS after 5 s with no
 * clients (price still ticking once a second).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { Channels } from "../common/channels.ts";
import { freePort } from "../test/support/ports.ts";
import { startRedis } from "../test/support/redis-server.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist", "bin");
const SERVICES = ["api", "ws", "price"] as const;
type Service = (typeof SERVICES)[number];

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh")], { stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0) process.exit(1);

await using redis = await startRedis();
const listener = new Redis(redis.url);
await listener.subscribe(Channels.priceTicks);
let ticks = 0;
listener.on("message", () => void (ticks += 1));

/** Starts the binary, waits until healthy; returns the ms it took and the running process. */
async function coldStart(name: Service, dir: string) {
  const port = await freePort();
  const ticksBefore = ticks;
  const started = performance.now();
  const proc = Bun.spawn([join(BIN, name)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(port), REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db"), LOG_LEVEL: "info" },
    stdout: "pipe",
    stderr: "inherit",
  });
  // price's "ready": its Redis connection is up (its first tick then waits for the next 1 s grid line).
  let connectedAt = 0;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      if (!connectedAt && decoder.decode(chunk).includes('"msg":"redis connected"')) connectedAt = performance.now();
    }
  })();
  const deadline = started + 15_000;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`${name} not healthy within 15 s`);
    if (name === "price") {
      if (ticks > ticksBefore && connectedAt) return { ms: connectedAt - started, firstTickMs: performance.now() - started, proc };
    } else {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        await response.body?.cancel();
        if (response.status === 200) break;
      } catch {
        // not listening yet
      }
    }
    await Bun.sleep(2);
  }
  return { ms: performance.now() - started, firstTickMs: undefined, proc };
}

function rssMiB(pid: number): number {
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kib / 1024;
}

const rows: string[] = [];
for (const name of SERVICES) {
  const size = statSync(join(BIN, name)).size / 1024 / 1024;
  const times: number[] = [];
  const firstTicks: number[] = [];
  let rss = 0;
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), `tap-measure-${name}-`));
    const { ms, firstTickMs, proc } = await coldStart(name, dir);
    times.push(ms);
    if (firstTickMs !== undefined) firstTicks.push(firstTickMs);
    if (run === RUNS - 1) {
      await Bun.sleep(5000);
      rss = rssMiB(proc.pid);
    }
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  rows.push(
    `${name.padEnd(6)} size ${size.toFixed(1).padStart(6)} MiB   cold start median ${median.toFixed(0).padStart(4)} ms (min ${(times[0] ?? 0).toFixed(0)}, max ${(times.at(-1) ?? 0).toFixed(0)}, n=${RUNS})   idle RSS ${rss.toFixed(1)} MiB` +
      (firstTicks.length ? `   first tick median ${(firstTicks.sort((a, b) => a - b)[Math.floor(firstTicks.length / 2)] ?? 0).toFixed(0)} ms` : ""),
  );
}
listener.disconnect();

const units = readdirSync(join(ROOT, "systemd"))
  .filter((file) => file.endsWith(".service"))
  .sort();
for (const unit of units) {
  const analyze = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", "--no-pager", join(ROOT, "systemd", unit)], { stdout: "pipe", stderr: "pipe" });
  const overall = /Overall exposure level for \S+: ([\d.]+ \S+)/.exec(analyze.stdout.toString())?.[1] ?? `unavailable (${analyze.stderr.toString().trim()})`;
  rows.push(`${unit.padEnd(28)} systemd-analyze security exposure ${overall}`);
}
console.log(`\n${rows.join("\n")}`);
