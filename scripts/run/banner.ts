export interface BannerOptions {
  apiPort: number;
  wsPort: number;
  redisUrl: string;
  /** True when `make run` started that Redis itself (and will stop it). */
  localRedis: boolean;
  dbPath: string;
  color: boolean;
}

/**
 * The "it is up" block printed once every service answers its health check:
 * only addresses that answer now, and the web page as the promise it still is.
 *
 * ```ts
 * console.log(formatBanner({ apiPort: 8080, wsPort: 8081, redisUrl: "redis://127.0.0.1:6390", localRedis: true, dbPath: ".run/data/bets.db", color: false }));
 * ```
 */
export function formatBanner({ apiPort, wsPort, redisUrl, localRedis, dbPath, color }: BannerOptions): string {
  const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
  const green = (text: string) => (color ? `\x1b[32m${text}\x1b[0m` : text);
  const rule = "─".repeat(72);
  const row = (label: string, value: string) => `  ${label.padEnd(11)}${value}`;
  return [
    rule,
    `  ${green(bold("tap-trading is running"))}`,
    "",
    row("price API", bold(`http://localhost:${apiPort}/api/price`)),
    row("bets API", `POST http://localhost:${apiPort}/api/bets`),
    row("websocket", bold(`ws://localhost:${wsPort}/ws`)),
    row("health", `http://localhost:${apiPort}/healthz  http://localhost:${wsPort}/healthz`),
    row("redis", `${redisUrl}${localRedis ? " (started for this run, keeps nothing)" : ""}`),
    row("database", dbPath),
    row("web page", "http://localhost/ will be served by nginx once it lands (not yet)"),
    "",
    "  Ctrl-C stops everything.",
    rule,
  ].join("\n");
}
