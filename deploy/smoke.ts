/**
 * Checks an installed system from the outside, through nginx: the API is up,
 * SQLite and Redis answer, the page is served, and live ticks reach a
 * websocket (price → Redis → ws → nginx). Prints one JSON line per check and
 * exits non-zero if any failed.
 *
 *   bun deploy/smoke.ts                       # http://localhost
 *   bun deploy/smoke.ts http://game.example   # any host running the install
 */

export interface SmokeCheck {
  check: string;
  ok: boolean;
  detail: unknown;
}

/**
 * Runs every check against `base` (http://host[:port]) and returns their results.
 *
 * ```ts
 * const results = await smokeCheck("http://localhost");
 * if (results.some((result) => !result.ok)) process.exit(1);
 * ```
 */
export async function smokeCheck(base: string, { timeoutMs = 10_000 } = {}): Promise<SmokeCheck[]> {
  const results: SmokeCheck[] = [];
  const attempt = async (check: string, body: () => Promise<unknown>) => {
    try {
      results.push({ check, ok: true, detail: await body() });
    } catch (error) {
      results.push({ check, ok: false, detail: (error as Error).message });
    }
  };
  const get = async (path: string, expected = 200) => {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 200)}`);
    return { response, text };
  };

  await attempt("healthz", async () => JSON.parse((await get("/api/healthz")).text));
  await attempt("readyz", async () => {
    // Ready needs a fresh price too: a service just restarted may take a tick or two to get one.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await fetch(`${base}/api/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = JSON.parse(await response.text()) as { checks: { sqlite: { ok: boolean }; redis: { ok: boolean }; price?: { ok: boolean } } };
      if (response.status === 200 && body.checks.sqlite.ok && body.checks.redis.ok) return body.checks;
      if (Date.now() >= deadline) throw new Error(`not ready: ${response.status} ${JSON.stringify(body)}`);
      await Bun.sleep(250);
    }
  });
  await attempt("page", async () => {
    const { response, text } = await get("/");
    if (!response.headers.get("content-type")?.startsWith("text/html")) throw new Error("/ is not HTML");
    return { bytes: text.length, csp: response.headers.get("content-security-policy") !== null };
  });
  await attempt("websocket tick", () => liveTicksWithin(`${base.replace(/^http/, "ws")}/ws`, timeoutMs));
  return results;
}

/**
 * `liveTicks`, tried again while the connection is refused or dropped before
 * the deadline: ws starts listening only once it has Redis, so just after a
 * boot the API can be ready a moment before ws is.
 *
 * ```ts
 * await liveTicksWithin("ws://localhost/ws", 10_000); // { price, ts, lag_ms, received }
 * ```
 */
export async function liveTicksWithin(url: string, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    try {
      return await liveTicks(url, Math.max(1, deadline - Date.now()));
    } catch (error) {
      if (Date.now() >= deadline - 250) throw new Error(`${(error as Error).message} (${tries} tries)`);
      await Bun.sleep(250);
    }
  }
}

/** Opens a websocket and waits for a tick stamped after the connection opened: one that was live, not replayed. */
async function liveTicks(url: string, timeoutMs: number): Promise<unknown> {
  const socket = new WebSocket(url);
  const { promise, resolve, reject } = Promise.withResolvers<unknown>();
  const timer = setTimeout(() => reject(new Error(`no live tick on ${url} within ${timeoutMs} ms`)), timeoutMs);
  let openedAt = 0;
  let received = 0;
  socket.addEventListener("open", () => {
    openedAt = Date.now();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { type?: string; price?: number; ts?: number };
    if (message.type !== "price" || typeof message.ts !== "number") return;
    received += 1;
    // A tick's ts is when it was observed; allow a second of clock skew between sender and us.
    if (message.ts >= openedAt - 1000 && received >= 2) resolve({ price: message.price, ts: message.ts, lag_ms: Date.now() - message.ts, received });
  });
  socket.addEventListener("error", () => reject(new Error(`websocket to ${url} failed`)));
  socket.addEventListener("close", (event) => reject(new Error(`websocket to ${url} closed: ${event.code}`)));
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

if (import.meta.main) {
  const base = (process.argv[2] ?? "http://localhost").replace(/\/$/, "");
  const results = await smokeCheck(base);
  for (const result of results) console.log(JSON.stringify(result));
  process.exit(results.every((result) => result.ok) ? 0 : 1);
}
