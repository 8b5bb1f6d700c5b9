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
export function formatBanner({ httpPort, apiPort, wsPort, redisUrl, localRedis, dbPath, webDir, color }: BannerOptions): string {
  const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
  const green = (text: string) => (color ? `\x1b[32m${text}\x1b[0m` : text);
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
    row("direct", `api http://localhost:${apiPort}  ws ws://localhost:${wsPort}/ws (bypassing nginx)`),
    row("redis", `${redisUrl}${localRedis ? " (started for this run, keeps nothing)" : ""}`),
    row("database", dbPath),
    row("page", `${webDir} (built at start; nginx serves it)`),
    "",
    "  Ctrl-C stops everything.",
    rule,
  ].join("\n");
}
