/**
 * `make run`: the whole system on this machine, as one foreground process.
 *
 * Builds the page, starts a throwaway redis-server (unless REDIS_URL or
 * REDIS_ADDR names one), then api, ws, price and nginx in front of them (as in
 * production) as child processes, prints their logs as readable lines, and
 * stops them all on Ctrl-C or when any of them dies.
 *
 * Prices come from the exchanges (PRICE_SOURCE=venues) unless PRICE_SOURCE
 * says otherwise; when no exchange answers within 10 s, price alone is
 * restarted with simulated prices (PRICE_SOURCE=mock) and the banner says so.
 *
 *   bun scripts/run.ts                      # nginx on :80 (root) or :8000, API :8080, websocket :8081
 *   HTTP_PORT=9000 API_PORT=9080 WS_PORT=9081 bun scripts/run.ts
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { ConfigError } from "../common/config.ts";
import { findNginx, type RenderedNginx, renderNginx } from "../nginx/render.ts";
import { buildWeb } from "../web/build.ts";
import { formatBanner } from "./run/banner.ts";
import { ensureDevSecret } from "./run/dev-secret.ts";
import { type LocalRedis, startLocalRedis } from "./run/local-redis.ts";
import { formatLogLine, formatLogRecord, type LogFormatOptions } from "./run/log-format.ts";
import { isPortFree, pickHttpPort, pickPort } from "./run/ports.ts";
import { type PriceSourceOutcome, VENUE_WAIT_MS, waitForLiveVenue, waitForPriceTicks } from "./run/price-source.ts";
import { type RunConfig, readRunConfig, serviceEnvironment } from "./run/run-config.ts";
import { type RunLog, type ServiceSpec, type Supervision, superviseServices } from "./run/supervisor.ts";

const ROOT = join(import.meta.dir, "..");
const EXIT_FAILURE = 1;
const EXIT_CONFIG = 78;

const format: LogFormatOptions = {
  nameWidth: 5,
  color: (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR) || (Boolean(process.env.FORCE_COLOR) && process.env.FORCE_COLOR !== "0"),
};
const print = (text: string) => void process.stdout.write(`${text}\n`);
const onLine = (service: string, line: string) => print(formatLogLine(service, line, format));
const log: RunLog = (level, msg, fields = {}) => print(formatLogRecord("run", { level, msg, ...fields }, format));
const pretty = (path: string) => (path.startsWith(`${ROOT}/`) ? relative(ROOT, path) : path);

// What a signal has to reach, whenever it comes.
let redis: LocalRedis | undefined;
let supervision: Supervision | undefined;
let signals = 0;

function onSignal(signal: NodeJS.Signals) {
  signals += 1;
  if (signals === 1) {
    log("info", `${signal}: stopping (Ctrl-C again kills at once)`);
    supervision?.stop(signal);
  } else {
    supervision?.kill();
    redis?.child.kill("SIGKILL");
  }
}

/** Runs everything until it stops; resolves with the exit status. */
async function main(): Promise<number> {
  let config: RunConfig;
  try {
    config = readRunConfig(process.env, ROOT);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", `bad configuration: ${error.message}`, { variable: error.variable });
    return EXIT_CONFIG;
  }

  const nginxProgram = findNginx();
  if (!nginxProgram) {
    log("error", "nginx is not installed: make run serves the page and proxies the API through it", {
      hint: "make setup installs it (as root), or: sudo apt-get install -y nginx",
    });
    return EXIT_FAILURE;
  }
  const ports: [string, string, number][] = [
    ["API_PORT", "api", config.apiPort],
    ["WS_PORT", "ws", config.wsPort],
  ];
  if (config.httpPort !== undefined) ports.push(["HTTP_PORT", "nginx", config.httpPort]);
  for (const [variable, service, port] of ports) {
    if (!(await isPortFree(port))) {
      log("error", `port ${port} is already in use, so ${service} cannot listen on it`, {
        hint: `stop whatever listens on ${port} (another make run?) or pick another port, e.g. ${variable}=${port + 1000} make run`,
      });
      return EXIT_FAILURE;
    }
  }

  const httpPort = config.httpPort ?? (await pickHttpPort(process.getuid?.() === 0));
  log("info", `the page will be at http://localhost${httpPort === 80 ? "" : `:${httpPort}`}/ (nginx)`);
  const pricePort = await pickPort(config.pricePort);
  if (pricePort !== config.pricePort) log("info", `port ${config.pricePort} is taken: price's /healthz uses ${pricePort}`);

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));
  // The page as production serves it: built, then handed to nginx.
  const webDir = join(config.runDir, "web");
  try {
    const build = await buildWeb(webDir);
    log("info", "page built", { dir: pretty(build.outDir), files: build.files.length });
  } catch (error) {
    // Bun.build's AggregateError carries one message per problem, with file and line.
    for (const problem of error instanceof AggregateError ? error.errors : []) onLine("web", String(problem));
    log("error", `could not build the page: ${(error as Error).message.split("\n")[0]}`, { hint: `bun web/build.ts ${pretty(webDir)} shows the same` });
    return EXIT_FAILURE;
  }
  if (signals > 0) return 0;
  const secretFile = config.serviceEnv.SESSION_SECRET_FILE;
  if (secretFile) ensureDevSecret(secretFile);

  let redisUrl = config.redisUrl;
  let redisFailed = false;
  let redisStopping = false;
  if (redisUrl) {
    log("info", "using the given Redis", { url: redisUrl.replace(/\/\/[^@]*@/, "//***@") });
  } else {
    const port = await pickPort(config.redisPort);
    if (port !== config.redisPort) log("info", `port ${config.redisPort} is taken: the local redis-server uses ${port}`);
    const dir = join(config.runDir, "redis");
    // redis-server's start-up warnings are noise while it works; its last lines are shown when it fails.
    const tail: string[] = [];
    const keepTail = (_service: string, line: string) => void (tail.push(line) > 20 && tail.shift());
    const showTail = () => {
      for (const line of tail.splice(0)) onLine("redis", line);
    };
    let local: LocalRedis;
    try {
      local = await startLocalRedis({ port, dir, onLine: keepTail });
    } catch (error) {
      showTail();
      log("error", `could not start redis-server: ${(error as Error).message}`, {
        hint: "make setup installs it; or point REDIS_URL at a Redis you run",
      });
      return EXIT_FAILURE;
    }
    redis = local;
    redisUrl = local.url;
    log("info", "local redis-server ready", { url: local.url, pid: local.child.pid, dir: pretty(dir) });
    void local.child.exited.then((status) => {
      if (redisStopping) return;
      redisFailed = true;
      showTail();
      log("error", "redis-server exited unexpectedly", { ...status });
      supervision?.stop("redis-server exited");
    });
  }

  const stopRedis = async () => {
    if (!redis) return;
    redisStopping = true;
    await redis.stop();
    log("info", "redis-server stopped");
  };
  if (signals > 0) {
    await stopRedis();
    return 0;
  }

  const nginx = renderNginx({
    prefix: join(config.runDir, "nginx"),
    port: httpPort,
    ...(hasIpv6() ? {} : { host: "0.0.0.0" }),
    apiPort: config.apiPort,
    wsPort: config.wsPort,
    webRoot: webDir,
    nginx: nginxProgram,
  });
  const priceSource = config.priceSource ?? "venues";
  const specs = serviceSpecs(config, redisUrl, pricePort, priceSource);
  supervision = superviseServices([...specs, nginxSpec(nginx)], { cwd: ROOT, log, onLine });
  const [ready, prices] = await Promise.all([
    supervision.ready,
    settlePriceSource(supervision, {
      asked: config.priceSource,
      healthUrl: `http://127.0.0.1:${pricePort}/healthz`,
      mock: priceSpec(config, redisUrl, pricePort, "mock"),
    }),
  ]);
  if (ready && prices && !supervision.stopping()) {
    print(
      formatBanner({
        httpPort,
        apiPort: config.apiPort,
        wsPort: config.wsPort,
        redisUrl,
        localRedis: redis !== undefined,
        dbPath: pretty(config.serviceEnv.DB_PATH ?? ""),
        webDir: pretty(webDir),
        prices,
        color: format.color,
      }),
    );
  }

  const failed = (await supervision.done) !== 0 || redisFailed;
  await stopRedis();
  log(failed ? "error" : "info", failed ? "stopped after a failure" : "all stopped");
  return failed ? EXIT_FAILURE : 0;
}

/**
 * Where the prices come from, settled within VENUE_WAIT_MS of price's start:
 * as asked when PRICE_SOURCE is set (no fallback), else the exchanges if one is
 * live by then, else price restarted alone with PRICE_SOURCE=mock. Then waits
 * (as long again at most) for price to make ticks, so the banner comes once
 * the page has a price. Undefined when the services began stopping meanwhile.
 */
async function settlePriceSource(
  run: Supervision,
  { asked, healthUrl, mock }: { asked: string | undefined; healthUrl: string; mock: ServiceSpec },
): Promise<PriceSourceOutcome | undefined> {
  const startedAt = Date.now();
  const cancelled = () => run.stopping();
  let outcome: PriceSourceOutcome;
  if (asked !== undefined && asked !== "venues") {
    outcome = { source: "mock", fallback: false };
  } else {
    log("info", `waiting up to ${VENUE_WAIT_MS / 1000} s for an exchange to answer`, { health: healthUrl });
    const seen = await waitForLiveVenue({ healthUrl, timeoutMs: VENUE_WAIT_MS, cancelled });
    if (run.stopping()) return undefined;
    if (seen.live.length > 0) {
      log("info", "live prices from the exchanges", { live: seen.live.join(","), configured: seen.configured, after_ms: Date.now() - startedAt });
      outcome = { source: "venues", live: seen.live, configured: seen.configured, asked: asked !== undefined };
    } else if (asked !== undefined) {
      log("warn", `no exchange answered within ${VENUE_WAIT_MS / 1000} s; PRICE_SOURCE=venues was asked for, so price keeps trying and the page stays paused`);
      return { source: "venues", live: [], configured: seen.configured, asked: true };
    } else {
      log("warn", `no exchange answered within ${VENUE_WAIT_MS / 1000} s (no internet?): restarting price with PRICE_SOURCE=mock, simulated prices`);
      if (!(await run.replace(mock))) return undefined;
      outcome = { source: "mock", fallback: true };
    }
  }
  const ticking = await waitForPriceTicks({ healthUrl, timeoutMs: VENUE_WAIT_MS, cancelled });
  if (run.stopping()) return undefined;
  if (ticking) log("info", `${outcome.source === "mock" ? "simulated" : "live"} prices flowing`, { after_ms: Date.now() - startedAt });
  else log("warn", `price has made no tick within ${VENUE_WAIT_MS / 1000} s: the page shows paused until it does`, { health: healthUrl });
  return outcome;
}

/** price, from `source`, with its /healthz on `port` (no health check of the supervisor's: no quorum is not a failure). */
function priceSpec(config: RunConfig, redisUrl: string, port: number, source: string): ServiceSpec {
  return { name: "price", cmd: [process.execPath, "price/main.ts"], env: { ...serviceEnvironment(process.env, config, redisUrl, port), PRICE_SOURCE: source } };
}

/** api and ws on their ports with a health check; price with its /healthz on `pricePort`. */
function serviceSpecs(config: RunConfig, redisUrl: string, pricePort: number, priceSource: string): ServiceSpec[] {
  const bun = process.execPath;
  return [
    {
      name: "api",
      cmd: [bun, "api/main.ts"],
      env: serviceEnvironment(process.env, config, redisUrl, config.apiPort),
      healthUrl: `http://127.0.0.1:${config.apiPort}/healthz`,
    },
    {
      name: "ws",
      cmd: [bun, "--smol", "ws/main.ts"], // as the compiled ws runs (scripts/build.sh)
      env: serviceEnvironment(process.env, config, redisUrl, config.wsPort),
      healthUrl: `http://127.0.0.1:${config.wsPort}/healthz`,
    },
    priceSpec(config, redisUrl, pricePort, priceSource),
  ];
}

/**
 * nginx in the foreground (`daemon off` in its prefix's nginx.conf), so the
 * supervisor stops it like the rest: SIGTERM is its fast shutdown, workers
 * included. Healthy once the API answers through it.
 */
function nginxSpec(nginx: RenderedNginx): ServiceSpec {
  return {
    name: "nginx",
    cmd: nginx.command,
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    healthUrl: `http://127.0.0.1:${nginx.port}/api/healthz`,
  };
}

/** Whether this host has IPv6, so nginx can also listen on [::] as in production. */
function hasIpv6(): boolean {
  return existsSync("/proc/net/if_inet6");
}

/** Lets the last lines reach a pipe before the process exits. */
async function exit(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}

// The children run in their own process groups, so nothing else would stop them if this process died.
function killEverything(why: string, error: unknown) {
  log("error", `${why}: killing every child`, { err: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  supervision?.kill();
  redis?.child.kill("SIGKILL");
}
process.on("uncaughtException", (error) => {
  killEverything("supervisor failed", error);
  process.exit(EXIT_FAILURE);
});
// A closed stdout (`make run | head`) must not take the supervisor down with the children still running.
process.stdout.on("error", () => {});

let status: number;
try {
  status = await main();
} catch (error) {
  killEverything("supervisor failed", error);
  status = EXIT_FAILURE;
}
await exit(status);
