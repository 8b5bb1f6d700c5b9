/**
 * Results in a real browser: the page behind nginx (redis-server, api and ws as
 * processes, Chromium headless), but with ticks the test publishes itself
 * instead of the price service, and one-second windows. A bet on a band a tick
 * then touches is marked won and its payout credited; a bet on a band the price
 * never reaches is marked lost once its window is over.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { waitFor } from "./support/wait.ts";

import { ONE_SECOND_WINDOWS, startWebStack, type WebStack } from "./support/web-stack.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ARTIFACTS = join(import.meta.dir, "..", "test-artifacts");
const START_PRICE = 42_000;
const STAKE = 5;

let stack: WebStack;
let page: Page;
let problems: string[];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startWebStack({ name: "web-results", apiEnv: ONE_SECOND_WINDOWS, startPrice: START_PRICE });
  ({ page, problems } = await stack.newPage({ viewport: { width: 1366, height: 800 } }));
}, 30_000);

afterAll(() => stack?.stop());

function storedBet(betId: string) {
  const db = new Database(stack.dbPath, { readonly: true });
  try {
    return db.query("SELECT status, stake_cents, multiplier_centi, payout_cents FROM bets WHERE id = ?").get(betId) as {
      status: string;
      stake_cents: number;
      multiplier_centi: number;
      payout_cents: number;
    } | null;
  } finally {
    db.close();
  }
}

const shownBalance = async () => Number(await page.locator("[data-testid=balance]").getAttribute("data-value"));
const status = () => page.locator("[data-testid=bet-status]");
const cents = (amount: number) => Math.round(amount * 100);

/**
 * Two cells of the first column opening 3.5–4.5 s from now, so both can be tapped before it locks: one `bandsUp`
 * bands above the band holding the price, one `bandsDown` below. Read from the buttons' data attributes.
 */
async function targetCells(bandsUp: number, bandsDown: number) {
  return await waitFor("a column with both target cells on screen", () =>
    page.evaluate(
      ({ price, bandsUp, bandsDown }) => {
        const cells = [...document.querySelectorAll<HTMLButtonElement>("button.cell:not([disabled])")];
        const ahead = (b: HTMLButtonElement) => Number(b.dataset.tStart) - Date.now();
        const starts = [...new Set(cells.filter((b) => ahead(b) > 3500 && ahead(b) < 4500).map((b) => Number(b.dataset.tStart)))].sort((a, b) => a - b);
        for (const tStart of starts) {
          const column = cells.filter((b) => Number(b.dataset.tStart) === tStart);
          const sample = column[0]!;
          const band = Number(sample.dataset.priceHigh) - Number(sample.dataset.priceLow);
          const base = Math.floor(price / band) * band;
          const at = (low: number) => column.find((b) => Math.abs(Number(b.dataset.priceLow) - low) < 1e-6);
          const win = at(base + bandsUp * band);
          const lose = at(base - bandsDown * band);
          const read = (b: HTMLButtonElement) => ({
            key: b.dataset.key!,
            tStart: Number(b.dataset.tStart),
            tEnd: Number(b.dataset.tEnd),
            low: Number(b.dataset.priceLow),
            high: Number(b.dataset.priceHigh),
            multiplier: Number(b.dataset.multiplier),
          });
          if (win && lose) return { win: read(win), lose: read(lose) };
        }
        return undefined;
      },
      { price: START_PRICE, bandsUp, bandsDown },
    ),
  );
}

/**
 * Taps the cell `key` with the mouse where it is now (the grid scrolls all the time, so it aims again if the tap
 * fell short) and returns the accepted bet's id.
 */
async function tapAndAccept(key: string, previous: string | null): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const centre = await page.evaluate((key) => {
      const button = document.querySelector<HTMLButtonElement>(`button.cell[data-key="${key}"]`);
      if (!button || button.disabled) return undefined;
      const r = button.getBoundingClientRect();
      const at = { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      return document.elementFromPoint(at.x, at.y)?.closest("button") === button ? at : undefined;
    }, key);
    if (!centre) throw new Error(`cell ${key} is not tappable`);
    await page.mouse.click(centre.x, centre.y);
    const betId = await waitFor(
      "the bet accepted",
      async () => {
        const [state, cellKey, betId] = await Promise.all([status().getAttribute("data-state"), status().getAttribute("data-cell-key"), status().getAttribute("data-bet-id")]);
        if (state === "rejected" && cellKey === key) throw new Error(`refused: ${await status().textContent()}`);
        return state === "accepted" && cellKey === key && betId !== previous ? betId : undefined;
      },
      1500,
    ).catch(() => undefined);
    if (betId) return betId;
  }
  throw new Error(`three taps on ${key} placed no bet; status reads ${await status().textContent()}`);
}

describe("results on the page", () => {
  test("a touched cell is marked won and its payout credited; an untouched one is marked lost after its window", async () => {
    await page.goto(stack.nginx.url);
    await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
    await waitFor("the priced grid", async () => (await page.locator("button.cell:not([disabled])").count()) > 20);
    await waitFor("a balance", async () => (await page.locator("[data-testid=balance]").getAttribute("data-value")) !== null);
    const start = await shownBalance();

    const { win, lose } = await targetCells(3, 3);
    const wonId = await tapAndAccept(win.key, null);
    await waitFor("the balance down by one stake", async () => cents(await shownBalance()) === cents(start) - cents(STAKE));
    const lostId = await tapAndAccept(lose.key, wonId);
    await waitFor("the balance down by two stakes", async () => cents(await shownBalance()) === cents(start) - 2 * cents(STAKE));
    expect(storedBet(wonId)).toMatchObject({ status: "open", stake_cents: cents(STAKE) });
    expect(storedBet(lostId)).toMatchObject({ status: "open", stake_cents: cents(STAKE) });

    // Inside the window, a tick in the middle of the upper band (and the price stays there).
    const waitMs = win.tStart + 150 - Date.now();
    expect(waitMs).toBeGreaterThan(0);
    await Bun.sleep(waitMs);
    await stack.pump.publish((win.low + win.high) / 2);

    const wonButton = page.locator(`button.cell[data-key="${win.key}"]`);
    await waitFor("the cell marked won", async () => (await wonButton.getAttribute("data-result")) === "won", 5000);
    await waitFor("the status reads won", async () => (await status().getAttribute("data-result")) === "won" && (await status().getAttribute("data-bet-id")) === wonId, 2000);
    expect(await status().textContent()).toContain("Won");
    await page.screenshot({ path: join(ARTIFACTS, "web-results-won.png") });
    const won = storedBet(wonId)!;
    expect(won.status).toBe("won");
    // Stake × multiplier, rounded down to the cent.
    expect(won.payout_cents).toBe(Math.floor((cents(STAKE) * won.multiplier_centi) / 100));
    expect(won.multiplier_centi).toBeGreaterThan(100);
    await waitFor("the payout credited", async () => cents(await shownBalance()) === cents(start) - 2 * cents(STAKE) + won.payout_cents);
    expect(await wonButton.getAttribute("class")).toContain("won");
    expect(await wonButton.locator(".stake-mark").textContent()).toBe(`+$${(won.payout_cents / 100).toFixed(won.payout_cents % 100 === 0 ? 0 : 2)}`);

    // The lower band is never reached: lost once its window and the grace are over.
    const lostButton = page.locator(`button.cell[data-key="${lose.key}"]`);
    await waitFor("the cell marked lost", async () => (await lostButton.getAttribute("data-result")) === "lost", 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(lose.tEnd);
    expect(storedBet(lostId)).toMatchObject({ status: "lost", payout_cents: 0 });
    expect(await status().getAttribute("data-result")).toBe("lost");
    expect(await status().getAttribute("data-bet-id")).toBe(lostId);
    // A loss takes nothing more: the balance is the start, less two stakes, plus the payout.
    expect(cents(await shownBalance())).toBe(cents(start) - 2 * cents(STAKE) + won.payout_cents);
    await page.screenshot({ path: join(ARTIFACTS, "web-results.png") });
    expect(problems).toEqual([]);
  }, 30_000);

  test("a refused token gets a new session and the socket proves it; a bet placed on another device is drawn", async () => {
    const other = await stack.browser.browser.newContext({ viewport: { width: 1366, height: 800 } });
    try {
      const fresh = await other.newPage();
      const frames: string[] = [];
      fresh.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => frames.push(String(payload))));
      // A kept session the servers no longer know (signed with another secret, say).
      await fresh.goto(`${stack.nginx.url}/favicon.svg`);
      await fresh.evaluate(() => localStorage.setItem("tap-trading.session", JSON.stringify({ token: "v1.not-a-real-token", user_id: "gone" })));
      // Hold the account reads back a moment, so the socket is the first to find the token refused.
      const opened = Date.now();
      await fresh.route(/\/api\/(me|bets|players\/me)/, async (route) => {
        await Bun.sleep(Math.max(0, opened + 1500 - Date.now()));
        await route.continue();
      });
      await fresh.goto(stack.nginx.url);
      await waitFor("the socket authenticated", () => frames.some((frame) => frame.includes('"type":"authed"')), 10_000);
      const refusedAt = frames.findIndex((frame) => frame.includes('"code":"unauthorized"'));
      expect(refusedAt).toBeGreaterThanOrEqual(0);
      expect(frames.findIndex((frame) => frame.includes('"type":"authed"'))).toBeGreaterThan(refusedAt);
      const kept = await fresh.evaluate(() => JSON.parse(localStorage.getItem("tap-trading.session")!) as { token: string; user_id: string });
      expect(kept.token).not.toBe("v1.not-a-real-token");
      expect(frames.find((frame) => frame.includes('"type":"authed"'))).toContain(kept.user_id);
      await waitFor("a balance", async () => (await fresh.locator("[data-testid=balance]").getAttribute("data-value")) === "1000");

      // Another device (here, the API straight) places a bet for the same player: the page hears it and draws it.
      const grid = (await (await fetch(`${stack.nginx.url}/api/grid`)).json()) as { cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean; offered: boolean; multiplier: number }[] };
      const pick = grid.cells.find((c) => !c.locked && c.offered && c.multiplier <= 20 && c.t_start - Date.now() > 3000 && c.t_start - Date.now() < 5000)!;
      const response = await fetch(`${stack.nginx.url}/api/bets`, {
        method: "POST",
        headers: { authorization: `Bearer ${kept.token}`, "content-type": "application/json" },
        body: JSON.stringify({ amount: 1, cell: { t_start: pick.t_start, t_end: pick.t_end, price_low: pick.price_low, price_high: pick.price_high } }),
      });
      expect(response.status).toBe(202);
      const { bet_id } = (await response.json()) as { bet_id: string };
      await waitFor("the balance from the event", async () => (await fresh.locator("[data-testid=balance]").getAttribute("data-value")) === "999", 5000);
      const drawn = await waitFor(
        "the bet drawn on its cell",
        () => fresh.evaluate((betId) => [...document.querySelectorAll<HTMLButtonElement>("button.cell.accepted")].some((b) => b.title.includes(betId)), bet_id),
        3000,
      );
      expect(drawn).toBe(true);
    } finally {
      await other.close();
    }
  }, 20_000);

  test("a bet settled while the socket was down is marked won once it is back, with the payout in the balance", async () => {
    // Back to the starting price, which the target cells are counted from.
    await stack.pump.publish(START_PRICE);
    await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
    await Bun.sleep(1200);
    const start = await shownBalance();
    const { win } = await targetCells(3, 3);
    const wonId = await tapAndAccept(win.key, await status().getAttribute("data-bet-id"));
    await waitFor("the balance down by one stake", async () => cents(await shownBalance()) === cents(start) - cents(STAKE));

    const before = problems.length;
    await stack.ws.stop("SIGTERM");
    await waitFor("conn not live", async () => (await page.locator("[data-testid=conn]").textContent()) !== "live", 5000);
    await Bun.sleep(Math.max(0, win.tStart + 150 - Date.now()));
    await stack.pump.publish((win.low + win.high) / 2);
    await waitFor("the bet settled in SQLite", () => storedBet(wonId)?.status === "won", 5000);
    // Where the page shows the result: the bet's row in the history panel, which lasts, and its cell while the
    // cell is still on the grid (a grid that arrives after the reconnect no longer holds a window that has ended).
    // Read as they are, without waiting for an element that may be gone.
    const shown = () =>
      page.evaluate(
        ({ key, betId }) => {
          const cell = document.querySelector<HTMLButtonElement>(`button.cell[data-key="${key}"]`);
          const row = document.querySelector<HTMLElement>(`.bet-row[data-bet-id="${betId}"]`);
          return { cell: cell ? (cell.dataset.result ?? "no result") : "gone", row: row?.dataset.status ?? "no row" };
        },
        { key: win.key, betId: wonId },
      );
    // The page could not have heard it.
    expect(await shown()).toEqual({ cell: "no result", row: "open" });

    await stack.startWs();
    await waitFor("conn live again", async () => (await page.locator("[data-testid=conn]").textContent()) === "live", 15_000);
    await waitFor("the bet marked won in its row, and on its cell if still on the grid", async () => {
      const now = await shown();
      return now.row === "won" && (now.cell === "won" || now.cell === "gone");
    }, 5000);
    const won = storedBet(wonId)!;
    await waitFor("the payout credited", async () => cents(await shownBalance()) === cents(start) - cents(STAKE) + won.payout_cents, 5000);
    // While ws was down the browser itself logs failed websocket handshakes; nothing else may appear.
    expect(problems.slice(before).filter((problem) => !/WebSocket connection to .*\/ws' failed/.test(problem))).toEqual([]);
    problems.splice(before);
  }, 40_000);
});
