import { type PriceSourceOutcome, VENUE_WAIT_MS } from "./price-source.ts";

export interface BannerOptions {
  /** nginx's port: the one address a player needs. */
  httpPort: number;
  apiPort: number;
  wsPort: number;
  redisUrl: string;
  /** True when `make run` started that Redis itself (and will stop it). */
  localRedis: boolean;
  dbPath: string;
  /** The built page nginx serves. */
  webDir: string;
  /** Where the prices come from; a simulated fallback is shouted. */
  prices: PriceSourceOutcome;
  color: boolean;
}

/** `http://localhost/` on port 80, else `http://localhost:<port>/`. */
export function siteUrl(httpPort: number, scheme: "http" | "ws" = "http"): string {
  return `${scheme}://localhost${httpPort === 80 ? "" : `:${httpPort}`}/`;
}

/**
 * The "it is up" block printed once every service (nginx included) answers its
 * health check: the page first, then the API and websocket through nginx, and
 * the services' own ports for poking at them directly.
 *
 * ```ts
 * console.log(formatBanner({ httpPort: 80, apiPort: 8080, wsPort: 8081, redisUrl: "redis://127.0.0.1:6390", localRedis: true, dbPath: ".run/data/bets.db", webDir: ".run/web", color: false }));
 * ```
 */
export function formatBanner({ httpPort, apiPort, wsPort, redisUrl, localRedis, dbPath, webDir, prices, color }: BannerOptions): string {
  const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
  const green = (text: string) => (color ? `\x1b[32m${text}\x1b[0m` : text);
  const loud = (text: string) => (color ? `\x1b[1;33m${text}\x1b[0m` : text);
  const rule = "─".repeat(72);
  const row = (label: string, value: string) => `  ${label.padEnd(11)}${value}`;
  const site = siteUrl(httpPort);
  return [
    rule,
    `  ${green(bold("tap-trading is running"))}`,
    "",
    row("open", bold(site)),
    row("API", `${site}api/price  ${site}api/grid  POST ${site}api/session`),
    row("websocket", `${siteUrl(httpPort, "ws")}ws`),
    row("health", `${site}api/healthz`),
    ...pricesLines(prices, bold, loud),
    row("direct", `api http://localhost:${apiPort}  ws ws://localhost:${wsPort}/ws (bypassing nginx)`),
    row("redis", `${redisUrl}${localRedis ? " (started for this run, keeps nothing)" : ""}`),
    row("database", dbPath),
    row("page", `${webDir} (built at start; nginx serves it)`),
    "",
    "  Ctrl-C stops everything.",
    rule,
  ].join("\n");
}

/**
 * The prices' row: live from N venues, or simulated. A fallback to simulated
 * prices, or an asked-for `venues` with none answering, is a loud block of its
 * own, so nobody mistakes a random walk for BTC.
 */
export function pricesLines(prices: PriceSourceOutcome, bold = (text: string) => text, loud = bold): string[] {
  const row = (value: string) => `  ${"prices".padEnd(11)}${value}`;
  const seconds = VENUE_WAIT_MS / 1000;
  if (prices.source === "mock" && !prices.fallback) return [row("simulated (PRICE_SOURCE=mock): a random walk, not BTC")];
  if (prices.source === "mock") {
    return [
      "",
      `  ${loud(`!!! PRICES ARE SIMULATED: no exchange answered within ${seconds} s (no internet?)`)}`,
      `  ${loud("!!! the page shows a random walk, not BTC; restart make run once online for live prices")}`,
      "",
      row("simulated (fell back to PRICE_SOURCE=mock)"),
    ];
  }
  const n = prices.live.length;
  if (n === 0) {
    return [
      "",
      `  ${loud(`!!! NO LIVE PRICE: no exchange answered within ${seconds} s, and PRICE_SOURCE=venues was asked for`)}`,
      `  ${loud("!!! the page stays paused until one does; PRICE_SOURCE=mock make run simulates prices instead")}`,
      "",
      row(`from the exchanges: none live of ${prices.configured}`),
    ];
  }
  return [row(`${bold(`live from ${n} venue${n === 1 ? "" : "s"}`)} (${prices.live.join(", ")}; ${prices.configured} configured)`)];
}
