/**
 * The methods each path answers, so an unknown method gets 405 (with `Allow`) rather than 404.
 *
 * ```ts
 * const table: RouteTable = { allowedMethods: () => ["GET", "HEAD"] };
 * ```
 */
export interface RouteTable {
  allowedMethods(path: string): string[];
}

/**
 * Builds the table from Elysia's `app.routes`; `:param` segments match any one segment.
 *
 * ```ts
 * createRouteTable([{ method: "GET", path: "/api/bets/:id" }]).allowedMethods("/api/bets/b1"); // ["GET", "HEAD"]
 * ```
 */
export function createRouteTable(routes: readonly { method: string; path: string }[]): RouteTable {
  const patterns = new Map<string, { regex: RegExp; methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === "ALL" || method === "WS") continue;
    let entry = patterns.get(path);
    if (!entry) {
      const source = path
        .split("/")
        .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      entry = { regex: new RegExp(`^${source}/?$`), methods: new Set() };
      patterns.set(path, entry);
    }
    entry.methods.add(method);
    if (method === "GET") entry.methods.add("HEAD");
  }
  return {
    allowedMethods(path) {
      const allowed = new Set<string>();
      for (const { regex, methods } of patterns.values()) {
        if (regex.test(path)) for (const method of methods) allowed.add(method);
      }
      return [...allowed].sort();
    },
  };
}
