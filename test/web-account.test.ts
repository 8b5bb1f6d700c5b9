/**
 * The player's account in a real browser: the page behind nginx (redis-server, api and ws as processes, Chromium
 * headless). A recovery code made in one browser restores the same player, with the same balance, in another; a
 * nickname saved on the page shows on the leaderboard once the player's bet settles.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildWeb } from "../web/build.ts";
import { launchBrowser, type TestBrowser } from "./support/browser.ts";
import { startNginx, type TestNginx } from "./support/nginx.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

const ENV = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.0003" };
const STAKE = 7;

let redis: TestRedis;
let pump: TickPump;
let dir: string;
let api: RunningService;
let ws: RunningService;
let nginx: TestNginx;
let browser: TestBrowser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tap-web-account-"));
  redis = await startRedis();
  pump = await startTickPump(redis.url, 42_000, 200);
  const apiPort = await freePort();
  const wsPort = await freePort();
  api = spawnService("api", { PORT: String(apiPort), REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db"), ...ENV });
  ws = spawnService("ws", { PORT: String(wsPort), REDIS_URL: redis.url });
  const [build, launched] = await Promise.all([
    buildWeb(join(dir, "web")),
    launchBrowser(),
    waitForHttp(`http://127.0.0.1:${apiPort}/healthz`),
    waitForHttp(`http://127.0.0.1:${wsPort}/healthz`),
  ]);
  browser = launched;
  nginx = await startNginx({ apiPort, wsPort, webRoot: build.outDir });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await pump?.stop();
  for (const service of [ws, api]) await service?.stop("SIGKILL");
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const balance = async (page: Page) => Number(await page.locator("[data-testid=balance]").getAttribute("data-value"));
const kept = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem("tap-trading.session") ?? "null") as { token: string; user_id: string } | null);

async function open(page: Page) {
  await page.goto(nginx.url);
  await waitFor("a balance", async () => (await page.locator("[data-testid=balance]").getAttribute("data-value")) !== null);
}

describe("the player's account", () => {
  test("a recovery code made in one browser restores the same player, with the same balance, in another", async () => {
    const first = await browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const second = await browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const a = await first.newPage();
      await open(a);
      const starting = await balance(a);
      // A bet, so the player's balance is their own and not the starting one.
      const placed = await a.evaluate(async (stake) => {
        const { token } = JSON.parse(localStorage.getItem("tap-trading.session")!) as { token: string };
        const grid = (await (await fetch("/api/grid")).json()) as { cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean }[] };
        const cell = grid.cells.filter((c) => !c.locked).sort((x, y) => y.t_start - x.t_start)[0]!;
        const response = await fetch("/api/bets", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `account-${Date.now()}` },
          body: JSON.stringify({ amount: stake, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } }),
        });
        return response.status;
      }, STAKE);
      expect(placed).toBe(202);
      await a.reload();
      await waitFor("the bet's stake off the balance", async () => (await balance(a)) === starting - STAKE, 5000);
      const own = await balance(a);
      const player = (await kept(a))!.user_id;

      await a.locator("[data-testid=keep-player]").click();
      const code = await waitFor("a recovery code", async () => await a.locator("[data-testid=recovery-code]").inputValue(), 5000);
      expect(code).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/);
      expect(await a.locator("[data-testid=recovery-box]").isVisible()).toBe(true);

      const b = await second.newPage();
      await open(b);
      expect((await kept(b))!.user_id).not.toBe(player);
      await b.locator("[data-testid=restore-code]").fill(code);
      await b.locator("[data-testid=restore-form] button[type=submit]").click();
      await waitFor("the restored player", async () => (await kept(b))?.user_id === player, 5000);
      await waitFor("the restored balance", async () => (await balance(b)) === own, 10_000);

      // A code is good once: a second restore with it is refused in words.
      const c = await second.newPage();
      await open(c);
      await c.evaluate(() => localStorage.removeItem("tap-trading.session"));
      await c.locator("[data-testid=restore-code]").fill(code);
      await c.locator("[data-testid=restore-form] button[type=submit]").click();
      await waitFor("the refusal", async () => /^Not restored: /.test((await c.locator("[data-testid=account-status]").textContent()) ?? ""), 5000);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("a nickname saved on the page shows on the leaderboard once the player's bet settles", async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      await open(page);
      const nickname = `tapper ${Date.now() % 100_000}`;
      await page.locator("[data-testid=nickname]").fill(nickname);
      await page.locator("[data-testid=nickname-form] button[type=submit]").click();
      await waitFor("the nickname saved", async () => (await page.locator("[data-testid=nickname-status]").textContent())?.startsWith("You are"), 5000);
      expect(await page.locator(`[data-testid=leaderboard] li[data-nickname="${nickname}"]`).count()).toBe(0);
      // A bet in the soonest open column on the band holding the price: it settles about two seconds on.
      const placed = await page.evaluate(async (stake) => {
        const { token } = JSON.parse(localStorage.getItem("tap-trading.session")!) as { token: string };
        const grid = (await (await fetch("/api/grid")).json()) as { price: number; cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean }[] };
        const open = grid.cells.filter((c) => !c.locked && c.price_low <= grid.price && grid.price < c.price_high).sort((x, y) => x.t_start - y.t_start);
        const cell = open[0]!;
        const response = await fetch("/api/bets", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `board-${Date.now()}` },
          body: JSON.stringify({ amount: stake, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } }),
        });
        return response.status;
      }, STAKE);
      expect(placed).toBe(202);
      const row = page.locator(`[data-testid=leaderboard] li[data-nickname="${nickname}"]`);
      await waitFor("the nickname on the leaderboard", async () => (await row.count()) === 1, 15_000);
      expect(await row.textContent()).toContain(nickname);
    } finally {
      await context.close();
    }
  });
});
