/**
 * The player's account in a real browser: the page behind nginx (redis-server, api and ws as processes, Chromium
 * headless). A recovery code made in one browser restores the same player, with the same balance, in another; a
 * nickname saved on the page shows on the leaderboard once the player's bet settles; another player's win shows on
 * an open page by itself.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import type { BetAccepted, BetView } from "../common/contracts/bet.ts";
import { authed, cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { waitFor } from "./support/wait.ts";
import { ONE_SECOND_WINDOWS, startWebStack, type WebStack } from "./support/web-stack.ts";

setDefaultTimeout(30_000);

const STAKE = 7;

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack({ name: "web-account", apiEnv: ONE_SECOND_WINDOWS });
}, 30_000);

afterAll(() => stack?.stop());

const balance = async (page: Page) => Number(await page.locator("[data-testid=balance]").getAttribute("data-value"));
const kept = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem("tap-trading.session") ?? "null") as { token: string; user_id: string } | null);

async function open(page: Page) {
  await page.goto(stack.nginx.url);
  await waitFor("a balance", async () => (await page.locator("[data-testid=balance]").getAttribute("data-value")) !== null);
}

describe("the player's account", () => {
  test("a recovery code made in one browser restores the same player, with the same balance, in another", async () => {
    const first = await stack.browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const second = await stack.browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const a = await first.newPage();
      await open(a);
      const starting = await balance(a);
      // A bet, so the player's balance is their own and not the starting one.
      const placed = await a.evaluate(async (stake) => {
        const { token } = JSON.parse(localStorage.getItem("tap-trading.session")!) as { token: string };
        const grid = (await (await fetch("/api/grid")).json()) as { cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean; offered: boolean; multiplier: number }[] };
        const cell = grid.cells.filter((c) => !c.locked && c.offered).sort((x, y) => y.t_start - x.t_start)[0]!;
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
    const context = await stack.browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      await open(page);
      const nickname = `tapper ${Date.now() % 100_000}`;
      await page.locator("[data-testid=nickname]").fill(nickname);
      await page.locator("[data-testid=nickname-form] button[type=submit]").click();
      await waitFor("the nickname saved", async () => (await page.locator("[data-testid=nickname-status]").textContent())?.startsWith("You are"), 5000);
      expect(await page.locator(`[data-testid=leaderboard] li[data-nickname="${nickname}"]`).count()).toBe(0);
      // A bet in the soonest open column on the band holding the price: it settles about two seconds on. That
      // column may lock (409 cell_locked) between reading the grid and betting: then again, on a fresh grid.
      const placed = await page.evaluate(async (stake) => {
        const { token } = JSON.parse(localStorage.getItem("tap-trading.session")!) as { token: string };
        let status = 0;
        for (let attempt = 0; attempt < 3 && status !== 202; attempt++) {
          const grid = (await (await fetch("/api/grid")).json()) as { price: number; cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean; offered: boolean; multiplier: number }[] };
          const open = grid.cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.price_low <= grid.price && grid.price < c.price_high).sort((x, y) => x.t_start - y.t_start);
          const cell = open[0]!;
          const response = await fetch("/api/bets", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `board-${Date.now()}-${attempt}` },
            body: JSON.stringify({ amount: stake, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } }),
          });
          status = response.status;
          if (status !== 409) break;
        }
        return status;
      }, STAKE);
      expect(placed).toBe(202);
      const row = page.locator(`[data-testid=leaderboard] li[data-nickname="${nickname}"]`);
      await waitFor("the nickname on the leaderboard", async () => (await row.count()) === 1, 15_000);
      expect(await row.textContent()).toContain(nickname);
    } finally {
      await context.close();
    }
  });

  // The page reads the board again every ten seconds while visible: up to ten seconds after the win settles.
  test("another player's settled win shows on an open page's leaderboard without the player doing anything", async () => {
    const context = await stack.browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      await open(page);
      await waitFor("the page's first leaderboard", async () => ((await page.locator("[data-testid=leaderboard-day]").textContent()) ?? "") !== "", 5000);

      // The other player, through nginx as a second browser would: a nickname, then a bet on the band holding the
      // price in the soonest open column. The pump holds the price still, so the bet wins about two seconds on.
      const base = stack.nginx.url;
      const other = await newSession(base);
      const nickname = `rival ${Date.now() % 100_000}`;
      const named = await fetch(`${base}/api/players/me/nickname`, { method: "PUT", headers: { ...authed(other.token), "content-type": "application/json" }, body: JSON.stringify({ nickname }) });
      expect(named.status).toBe(200);
      const row = page.locator(`[data-testid=leaderboard] li[data-nickname="${nickname}"]`);
      expect(await row.count()).toBe(0);
      let placed: Response | undefined;
      // The soonest column may lock (409) between reading the grid and betting: then again, on a fresh grid.
      for (let attempt = 0; attempt < 3 && placed?.status !== 202; attempt++) {
        const grid = await getGrid(base, other.token);
        const cell = grid.cells
          .filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.price_low <= grid.price && grid.price < c.price_high)
          .sort((x, y) => x.t_start - y.t_start)[0];
        if (!cell) continue;
        placed = await postBet(base, other.token, { amount: STAKE, cell: cellOf(cell) }, { "idempotency-key": `rival-${Date.now()}-${attempt}` });
      }
      expect(placed?.status).toBe(202);
      const { bet_id } = (await placed!.json()) as BetAccepted;
      const won = await waitFor(
        "the other player's bet settled",
        async () => {
          const bet = (await (await fetch(`${base}/api/bets/${bet_id}`, { headers: authed(other.token) })).json()) as BetView;
          return bet.status === "open" ? undefined : bet;
        },
        10_000,
        200,
      );
      expect(won.status).toBe("won");

      await waitFor("the other player on the open page's leaderboard", async () => (await row.count()) === 1, 15_000);
      expect(Number(await row.getAttribute("data-net"))).toBeCloseTo(won.payout - won.amount, 2);
    } finally {
      await context.close();
    }
  }, 45_000);
});
