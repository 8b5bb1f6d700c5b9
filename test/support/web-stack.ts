import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { launchBrowser, recordPageProblems, type TestBrowser } from "./browser.ts";
import { startNginx, type TestNginx } from "./nginx.ts";
import { freePort } from "./ports.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./service.ts";
import { startTickPump, type TickPump } from "./tick-pump.ts";

/** One-second windows, locked half a second before they open, settled half a second after they close. */
export const ONE_SECOND_WINDOWS = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.0003" };

/** A desktop window, as a new player on a laptop sees the page. */
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1440, height: 900 } };

/** A phone held upright, with touch. */
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 3 };

/** A page of the stack's browser, with what went wrong on it (`recordPageProblems`). */
export interface StackPage {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/**
 * The page as a player reaches it: redis-server, the api and ws as processes, nginx serving the built page, and
 * headless Chromium; the price is a tick pump the test steers (`pump.publish`).
 */
export interface WebStack {
  dir: string;
  /** The api's SQLite file, for reading what was stored. */
  dbPath: string;
  redis: TestRedis;
  nginx: TestNginx;
  browser: TestBrowser;
  /** The running tick pump (a new one after `restartPump`). */
  readonly pump: TickPump;
  readonly api: RunningService;
  /** The running ws process (a new one after `startWs`). */
  readonly ws: RunningService;
  /** Starts ws again on its port (after the test stopped it) and waits until it answers. */
  startWs(): Promise<RunningService>;
  /** Starts a new tick pump at `price` (after the test stopped the old one). */
  restartPump(price: number): Promise<TickPump>;
  /** A new browser context and page, its problems recorded; closed by `stop`. */
  newPage(options?: BrowserContextOptions): Promise<StackPage>;
  /** Stops everything and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts the whole stack in a temp dir named for the suite; `apiEnv` is added to the api's environment.
 *
 * ```ts
 * let stack: WebStack;
 * beforeAll(async () => (stack = await startWebStack({ name: "web-quotes", apiEnv: ONE_SECOND_WINDOWS })), 30_000);
 * afterAll(() => stack?.stop());
 * ```
 */
export async function startWebStack({ name, apiEnv = {}, startPrice = 42_000, tickMs = 200 }: { name: string; apiEnv?: Record<string, string>; startPrice?: number; tickMs?: number }): Promise<WebStack> {
  const dir = mkdtempSync(join(tmpdir(), `tap-${name}-`));
  const dbPath = join(dir, "bets.db");
  const contexts: BrowserContext[] = [];
  const redis = await startRedis();
  let pump = await startTickPump(redis.url, startPrice, tickMs);
  const [apiPort, wsPort] = [await freePort(), await freePort()];
  const api = spawnService("api", { PORT: String(apiPort), REDIS_URL: redis.url, DB_PATH: dbPath, ...apiEnv });
  const spawnWs = () => spawnService("ws", { PORT: String(wsPort), REDIS_URL: redis.url });
  let ws = spawnWs();
  const [build, browser] = await Promise.all([
    buildWeb(join(dir, "web")),
    launchBrowser(),
    // Ready, not just up: a fresh price, so the page's first grid is never a 503 no_price (a console error).
    waitForHttp(`http://127.0.0.1:${apiPort}/readyz`),
    waitForHttp(`http://127.0.0.1:${wsPort}/healthz`),
  ]);
  const nginx = await startNginx({ apiPort, wsPort, webRoot: build.outDir });
  return {
    dir,
    dbPath,
    redis,
    nginx,
    browser,
    get pump() {
      return pump;
    },
    api,
    get ws() {
      return ws;
    },
    async startWs() {
      ws = spawnWs();
      await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
      return ws;
    },
    async restartPump(price: number) {
      pump = await startTickPump(redis.url, price, tickMs);
      return pump;
    },
    async newPage(options = DESKTOP) {
      const context = await browser.browser.newContext(options);
      contexts.push(context);
      const page = await context.newPage();
      const problems: string[] = [];
      recordPageProblems(page, problems);
      return { context, page, problems };
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await nginx.stop();
      await pump.stop();
      for (const service of [ws, api]) await service.stop("SIGKILL");
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes the page's bets take whatever their cell pays now (`min_multiplier` 1.01, the least there is), for a test
 * about something else than quotes: near the price a shown quote often moves before the tap lands (docs/rules.md),
 * and the quotes suite tests that. Undo with `page.unrouteAll()`.
 *
 * ```ts
 * await acceptAnyMultiplier(page);
 * ```
 */
export async function acceptAnyMultiplier(page: Page): Promise<void> {
  await page.route("**/api/bets", (route) =>
    route.request().method() === "POST" ? route.continue({ postData: JSON.stringify({ ...route.request().postDataJSON(), min_multiplier: 1.01 }) }) : route.continue(),
  );
}
