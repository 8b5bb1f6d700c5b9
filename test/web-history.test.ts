/**
 * The bets panel in a real browser: the page behind nginx (redis-server, api and
 * ws as processes, Chromium headless), with ticks the test publishes itself and
 * one-second windows. Bets join the panel as they are placed, turn won or lost as
 * they settle, and are still there after a reload, with the totals right; a cell
 * holding a bet shows that bet's multiplier and stake; the phone's drawer opens
 * from the header and closes with Escape.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { readApiConfig } from "../api/config.ts";
import { watchStaleGrids } from "./support/browser.ts";
import { TEST_SESSION_SECRET } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

import { acceptAnyMultiplier, ONE_SECOND_WINDOWS, PHONE, startWebStack, type WebStack } from "./support/web-stack.ts";

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
  stack = await startWebStack({ name: "web-history", apiEnv: ONE_SECOND_WINDOWS, startPrice: START_PRICE });
  ({ page, problems } = await stack.newPage({ viewport: { width: 1440, height: 900 } }));
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
 * fell short, and taps again to take a quote that moved) and returns the accepted bet's id.
 */
async function tapAndAccept(key: string, previous: string | null): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const refusedBefore = await status().textContent();
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
        if (state === "rejected" && cellKey === key) {
          const [code, text] = [await status().getAttribute("data-code"), await status().textContent()];
          // A quote that moved is the player's to take with one more tap (docs/rules.md); anything else is a failure.
          if (code === "quote_changed") return text !== refusedBefore ? "retake" : undefined;
          throw new Error(`refused: ${text}`);
        }
        return state === "accepted" && cellKey === key && betId !== previous ? betId : undefined;
      },
      1500,
    ).catch(() => undefined);
    if (betId && betId !== "retake") return betId;
  }
  throw new Error(`five taps on ${key} placed no bet; status reads ${await status().textContent()}`);
}

const panel = () => page.locator("[data-testid=history]");
const row = (betId: string) => page.locator(`.bet-row[data-bet-id="${betId}"]`);
const totals = async (on: Page = page) => {
  const read = async (name: string) => Number(await on.locator("[data-testid=history]").getAttribute(`data-total-${name}`));
  return { staked: await read("staked"), paidOut: await read("paid-out"), net: await read("net") };
};
/** The panel's totals are read from the server a moment after bets are placed or settle: wait for them to agree. */
const totalsBecome = async (expected: { staked: number; paidOut: number; net: number }, on: Page = page) => {
  await waitFor(`totals ${JSON.stringify(expected)}`, async () => JSON.stringify(await totals(on)) === JSON.stringify(expected) || undefined, 5000).catch(async () => {
    expect(await totals(on)).toEqual(expected);
  });
};

/** The player's totals worked out from the stored bets (docs/rules.md: a win pays its payout, a void refunds the stake). */
function storedTotals(playerId: string) {
  const db = new Database(stack.dbPath, { readonly: true });
  try {
    const bets = db.query("SELECT status, stake_cents, payout_cents FROM bets WHERE player_id = ?").all(playerId) as { status: string; stake_cents: number; payout_cents: number }[];
    const staked = bets.reduce((sum, bet) => sum + bet.stake_cents, 0);
    const paid = bets.reduce((sum, bet) => sum + (bet.status === "won" ? bet.payout_cents : bet.status === "void" ? bet.stake_cents : 0), 0);
    return { staked: staked / 100, paidOut: paid / 100, net: (paid - staked) / 100 };
  } finally {
    db.close();
  }
}

const multiplierText = (m: number) => (m < 10 ? `${m.toFixed(2)}×` : m < 100 ? `${(Math.floor(m * 10) / 10).toFixed(1)}×` : `${Math.floor(m)}×`);

describe("the bets panel", () => {
  test("bets join the panel as placed, settle won and lost, survive a reload with the totals right; a cell shows its own bet", async () => {
    await page.goto(stack.nginx.url);
    await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
    await waitFor("the priced grid", async () => (await page.locator("button.cell:not([disabled])").count()) > 20);
    await waitFor("a balance", async () => (await page.locator("[data-testid=balance]").getAttribute("data-value")) !== null);
    expect(await page.locator(".history-empty").isVisible()).toBe(true);
    expect(await panel().isVisible()).toBe(true);

    const { win, lose } = await targetCells(3, 3);
    const wonId = await tapAndAccept(win.key, null);
    const lostId = await tapAndAccept(lose.key, wonId);

    // Both open, listed at once, open first (the panel does not wait for a page of GET /api/bets).
    await waitFor("two open rows", async () => (await page.locator(".bet-row[data-status=open]").count()) === 2, 3000);
    expect(await page.locator(".bet-row").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.betId))).toEqual(
      expect.arrayContaining([wonId, lostId]),
    );
    expect(await row(wonId).locator("[data-testid=bet-stake]").textContent()).toBe(`$${STAKE}`);
    expect(await row(wonId).locator("[data-testid=bet-result]").textContent()).toMatch(/^open · pays \$/);
    await totalsBecome({ staked: 2 * STAKE, paidOut: 0, net: -2 * STAKE });
    expect(await page.locator("[data-testid=history-open-count]").textContent()).toBe("2");

    // The cell holding a bet shows the bet's own multiplier (what it was taken at) and stake, not the live one.
    const stored = storedBet(wonId)!;
    const own = stored.multiplier_centi / 100;
    const wonButton = page.locator(`button.cell[data-key="${win.key}"]`);
    expect(Number(await wonButton.getAttribute("data-bet-multiplier"))).toBe(own);
    expect(await wonButton.locator(".mult").textContent()).toBe(multiplierText(own));
    expect(await wonButton.locator(".stake-mark").textContent()).toBe(`$${STAKE}`);
    expect(await row(wonId).locator("[data-testid=bet-mult]").textContent()).toBe(multiplierText(own));

    // A tick inside the upper band, in its window: won; the lower band is never reached: lost.
    const waitMs = win.tStart + 150 - Date.now();
    expect(waitMs).toBeGreaterThan(0);
    await Bun.sleep(waitMs);
    await stack.pump.publish((win.low + win.high) / 2);
    await waitFor("the row marked won", async () => (await row(wonId).getAttribute("data-status")) === "won", 5000);
    await waitFor("the row marked lost", async () => (await row(lostId).getAttribute("data-status")) === "lost", 5000);
    const paid = storedBet(wonId)!.payout_cents / 100;
    expect(paid).toBeGreaterThan(STAKE);
    expect(await row(wonId).locator("[data-testid=bet-result]").textContent()).toBe(`won +$${Number.isInteger(paid) ? paid : paid.toFixed(2)}`);
    expect(await row(lostId).locator("[data-testid=bet-result]").textContent()).toBe("lost");
    // Noticed without reading: the won row flashes, and its colour differs from the lost one's.
    expect(await row(wonId).getAttribute("class")).toContain("settled-now");
    const colour = (betId: string) => row(betId).locator("[data-testid=bet-result]").evaluate((el) => getComputedStyle(el).color);
    expect(await colour(wonId)).not.toBe(await colour(lostId));
    // Screen readers hear the results.
    expect(await page.locator("[data-testid=history-announce]").textContent()).toMatch(/won|lost/);
    const expected = { staked: 2 * STAKE, paidOut: paid, net: Math.round((paid - 2 * STAKE) * 100) / 100 };
    await totalsBecome(expected);
    expect(await page.locator("[data-testid=history-open-count]").textContent()).toBe("");

    // After a reload the panel reads GET /api/bets: the same bets, the same results, the same totals; settled, newest first.
    await page.reload();
    await waitFor("both rows back", async () => (await page.locator(".bet-row").count()) === 2, 10_000);
    expect(await row(wonId).getAttribute("data-status")).toBe("won");
    expect(await row(lostId).getAttribute("data-status")).toBe("lost");
    expect(await page.locator(".bet-row").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.betId))).toEqual([lostId, wonId]);
    await totalsBecome(expected);
    expect(await page.locator("[data-testid=total-net]").textContent()).toBe(
      `${expected.net < 0 ? "−" : "+"}$${Math.abs(expected.net).toFixed(2)}`,
    );
    expect(await page.locator("[data-testid=history-more]").isHidden()).toBe(true);
    expect(await page.locator("[data-testid=sound]").isChecked()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, "web-history.png") });
    expect(problems).toEqual([]);
  }, 30_000);

  test("on a phone the panel is a drawer: the header opens it with the bets, older ones a page at a time, Escape closes it", async () => {
    const session = await page.evaluate(() => localStorage.getItem("tap-trading.session"));
    const phone = await stack.browser.browser.newContext(PHONE);
    try {
      const small = await phone.newPage();
      // Pages of one bet here, so the two bets take two pages: the second comes with "Older bets".
      await small.route(/\/api\/bets\?limit=20/, (route) => route.continue({ url: route.request().url().replace("limit=20", "limit=1") }));
      await small.goto(`${stack.nginx.url}/favicon.svg`);
      await small.evaluate((kept) => localStorage.setItem("tap-trading.session", kept!), session);
      await small.goto(stack.nginx.url);
      const drawer = small.locator("[data-testid=history]");
      const toggle = small.locator("[data-testid=history-toggle]");
      await waitFor("the first page", async () => (await small.locator(".bet-row").count()) === 1, 10_000);
      // The totals are the player's, over every bet placed, not only the page the panel holds.
      await totalsBecome(storedTotals(JSON.parse(session!).user_id), small);
      expect(await drawer.isVisible()).toBe(false);
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      await toggle.tap();
      await waitFor("the drawer open", () => drawer.isVisible(), 2000);
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      await waitFor("the drawer in place", async () => {
        const box = await drawer.boundingBox();
        return box && box.x >= 0 && box.x + box.width <= 390 + 0.5 ? box : undefined;
      }, 2000);
      // A modal drawer: a dialog to screen readers, the page behind it inert, and Tab and Shift+Tab keep the focus on
      // the drawer's own controls (not the page's body, where it goes on its way out to the browser's), past either end.
      expect(await drawer.getAttribute("role")).toBe("dialog");
      expect(await drawer.getAttribute("aria-modal")).toBe("true");
      expect(await small.evaluate(() => [".top", ".board", ".controls"].map((s) => document.querySelector<HTMLElement>(s)!.inert))).toEqual([true, true, true]);
      const stops = await drawer.evaluate((el) => [...el.querySelectorAll("button:not([disabled]), input:not([disabled]), a[href]")].filter((c) => c.getClientRects().length > 0).length);
      const focusInDrawer = () => small.evaluate(() => !!document.activeElement?.closest("[data-testid=history]"));
      for (let i = 0; i < stops + 2; i++) {
        await small.keyboard.press("Tab");
        expect(await focusInDrawer()).toBe(true);
      }
      for (let i = 0; i < stops + 2; i++) {
        await small.keyboard.press("Shift+Tab");
        expect(await focusInDrawer()).toBe(true);
      }
      const more = small.locator("[data-testid=history-more]");
      expect(await more.isVisible()).toBe(true);
      await more.tap();
      await waitFor("the older page", async () => (await small.locator(".bet-row").count()) === 2, 5000);
      expect(await more.isHidden()).toBe(true);
      expect(await small.locator(".bet-row[data-status=won]").isVisible()).toBe(true);
      expect(await small.locator(".bet-row").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status))).toEqual(["lost", "won"]);
      // Stakes and multipliers line up from row to row, however many characters each has: two copies of a row with
      // the shortest and longest figures, measured, then removed.
      const columns = await small.locator(".bet-row").first().evaluate((row) => {
        const copies = [
          ["$1", "1.01×"],
          ["$99.99", "100×"],
        ].map(([stake, mult]) => {
          const copy = row.cloneNode(true) as HTMLElement;
          copy.querySelector(".bet-stake")!.textContent = stake!;
          copy.querySelector(".bet-mult")!.textContent = mult!;
          row.parentElement!.append(copy);
          return copy;
        });
        // Where each figure's text ends, as the eye sees it (a span fills its grid cell whatever its text).
        const textEnd = (el: Element) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return Math.round(range.getBoundingClientRect().right);
        };
        const edges = [row, ...copies].map((r) => [".bet-stake", ".bet-mult"].map((c) => textEnd(r.querySelector(c)!)));
        for (const copy of copies) copy.remove();
        return new Set(edges.map((e) => e.join())).size;
      });
      expect(columns).toBe(1);
      await small.screenshot({ path: join(ARTIFACTS, "web-history-phone.png") });
      await small.keyboard.press("Escape");
      await waitFor("the drawer closed", async () => !(await drawer.isVisible()), 2000);
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      expect(await small.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("history-toggle");
      expect(await small.evaluate(() => [".top", ".board", ".controls"].map((s) => document.querySelector<HTMLElement>(s)!.inert))).toEqual([false, false, false]);
    } finally {
      await phone.close();
    }
  }, 30_000);

  test("a tap on a locked cell says why; the paused banner covers no cell of the grid, on a desktop and a phone", async () => {
    await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
    const status = page.locator("[data-testid=bet-status]");
    // A cell whose window starts within the lock (or has started): its centre, where it is now.
    const lockedCentre = (selector: string) =>
      waitFor("a locked cell on screen", () =>
        page.evaluate((selector) => {
          for (const b of document.querySelectorAll<HTMLButtonElement>(selector)) {
            const r = b.getBoundingClientRect();
            const at = { x: r.left + r.width / 2, y: r.top + r.height / 2 };
            if (r.width > 20 && document.elementFromPoint(at.x, at.y) === b) return at;
          }
          return undefined;
        }, selector),
      );
    // The grid moves on every second: a cell found may have become another kind by the click, whose own message
    // then shows. Each attempt finds a cell again; the last message must be the expected one.
    const tapLocked = async (expected: RegExp, selector = "button.cell[disabled]:not(.unavailable)") => {
      let said: string | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        const { x, y } = await lockedCentre(selector);
        await page.mouse.click(x, y);
        said = (await waitFor("the locked message", async () => (await status.getAttribute("data-state")) === "locked" && (await status.textContent()), 1000).catch(() => undefined)) || undefined;
        if (said && expected.test(said)) break;
      }
      if (said === undefined) throw new Error(`no message for a locked cell; status reads ${await status.textContent()}`);
      expect(said).toMatch(expected);
    };
    await tapLocked(/^Too late: /);
    // A cell far from the price, its return under MIN_RTP or its fair multiplier above the cap: greyed, and a tap says why.
    const unavailable = page.locator("button.cell.unavailable").first();
    expect(await unavailable.isDisabled()).toBe(true);
    expect(Number(await unavailable.evaluate((el) => getComputedStyle(el).opacity))).toBeLessThan(0.6);
    await tapLocked(
      /^Not offered: (on average this cell would pay back only \d+% of the stake, below the 90% every offered cell returns|this cell is so unlikely to be reached that a fair multiplier for it would be above the highest paid)/,
      "button.cell.unavailable",
    );

    // Hover is not a bet: no amber (in flight) and no green (taken), only a light outline and a faint "tap $5?".
    const hovered = await waitFor("a hovered open cell", async () => {
      const at = await page.evaluate(() => {
        const centre = (c: HTMLButtonElement) => {
          const r = c.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        };
        const b = [...document.querySelectorAll<HTMLButtonElement>("button.cell:not([disabled]):not(.accepted)")].find(
          (c) => Number(c.dataset.tStart) - Date.now() > 2500 && document.elementFromPoint(centre(c).x, centre(c).y) === c,
        );
        return b && centre(b);
      });
      if (!at) return undefined;
      await page.mouse.move(at.x, at.y);
      return page.evaluate(({ x, y }) => {
        const b = document.elementFromPoint(x, y)?.closest<HTMLButtonElement>("button.cell");
        if (!b || b.disabled || b.classList.contains("accepted") || !b.matches(":hover")) throw new Error(`not a hovered open cell: ${b?.className} ${b?.disabled}`);
        const style = getComputedStyle(b);
        return { background: style.backgroundColor, border: style.borderTopColor, hint: getComputedStyle(b.querySelector(".stake-mark")!, "::after").content };
      }, at);
    });
    expect(hovered.border).not.toMatch(/247, 162, 27|34, 197, 94/);
    expect(hovered.background).not.toMatch(/247, 162, 27|34, 197, 94/);
    expect(hovered.hint).toBe('"tap $5?"');
    await page.mouse.move(5, 5);

    // The price's colour is its last move; the 5-minute change is labelled apart.
    await stack.pump.publish(START_PRICE - 100);
    await waitFor("price down", async () => (await page.locator("[data-testid=price]").getAttribute("data-dir")) === "down", 3000);
    await stack.pump.publish(START_PRICE);
    await waitFor("price up", async () => (await page.locator("[data-testid=price]").getAttribute("data-dir")) === "up", 3000);
    expect(await page.locator(".change-label").textContent()).toBe("5m change");
    expect(await page.locator("[data-testid=change-value]").textContent()).toMatch(/^[▲▼■] [+−±]/);

    // Grids the page asks for while the prices are stopped below (503s it rides out): counted, to forgive.
    const staleGrids = watchStaleGrids(page);
    const phone = await stack.browser.browser.newContext(PHONE);
    try {
      const small = await phone.newPage();
      await small.goto(stack.nginx.url);
      await waitFor("the phone live", async () => (await small.locator("button.cell:not([disabled])").count()) > 10, 10_000);
      await stack.pump.stop();
      const overlaps = (target: Page) =>
        target.evaluate(() => {
          const banner = document.querySelector(".paused")!.getBoundingClientRect();
          const grid = document.querySelector(".grid")!.getBoundingClientRect();
          const hit = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          // What shows of each cell: the grid clips them.
          const clip = (r: DOMRect) => DOMRect.fromRect({ x: Math.max(r.left, grid.left), y: Math.max(r.top, grid.top), width: Math.min(r.right, grid.right) - Math.max(r.left, grid.left), height: Math.min(r.bottom, grid.bottom) - Math.max(r.top, grid.top) });
          const cells = [...document.querySelectorAll<HTMLButtonElement>("button.cell")].map((b) => b.getBoundingClientRect()).filter((r) => hit(r, grid)).map(clip);
          const topRow = Math.min(...cells.map((r) => r.top));
          return {
            banner: { top: banner.top, bottom: banner.bottom, left: banner.left, right: banner.right },
            cells: cells.length,
            topRowHit: cells.filter((r) => Math.abs(r.top - topRow) < 1).some((r) => hit(r, banner)),
            anyHit: cells.some((r) => hit(r, banner)),
            inGrid: hit(banner, grid),
          };
        });
      for (const target of [page, small]) {
        await waitFor("the paused banner", () => target.locator(".paused").isVisible(), 8000);
        const seen = await overlaps(target);
        expect(seen.cells).toBeGreaterThan(10);
        expect(seen).toMatchObject({ topRowHit: false, anyHit: false, inGrid: false });
      }
      await small.screenshot({ path: join(ARTIFACTS, "web-paused-phone.png") });
      await page.screenshot({ path: join(ARTIFACTS, "web-paused.png") });
      await tapLocked(/^Betting is paused/);
    } finally {
      await phone.close();
      await stack.restartPump(START_PRICE);
    }
    await waitFor("live again", async () => (await page.locator(".paused").isHidden()), 8000);
    staleGrids.stop();
    staleGrids.forgive(problems, "console error: Failed to load resource: the server responded with a status of 503 (Service Unavailable)");
    expect(problems).toEqual([]);
  }, 30_000);

  test("the how-it-works sheet opens from the header with the grid's own figures and closes with Escape", async () => {
    const sheet = page.locator("[data-testid=help]");
    expect(await sheet.isVisible()).toBe(false);
    await page.locator("[data-testid=help-open]").click();
    await waitFor("the sheet open", () => sheet.isVisible(), 2000);
    const text = (await sheet.textContent()) ?? "";
    for (const words of ["A cell", "The multiplier", "Looking around", "drag", "wheel", "Shift", '"Now"', "Won", "Lost", "Void", "refunded", "house edge"]) expect(text).toContain(words);
    // This stack's one-second windows, locked half a second before, and the default 5 % edge.
    expect(await sheet.locator("[data-help=column]").textContent()).toBe("1 s");
    expect(await sheet.locator("[data-help=lock]").textContent()).toBe("0.5 s");
    expect(await sheet.locator("[data-help=edge]").textContent()).toBe("5%");
    // The return every offered cell lies in, from the settings this stack's API was started with (so its defaults).
    const config = readApiConfig({ ...ONE_SECOND_WINDOWS, SESSION_SECRET: TEST_SESSION_SECRET });
    const percent = (share: number) => `${Number((share * 100).toFixed(1))}%`;
    expect(await sheet.locator("[data-help=edge]").textContent()).toBe(percent(config.houseEdge));
    expect(await sheet.locator("[data-help=min-rtp]").allTextContents()).toEqual([percent(config.minRtp)]);
    expect(await sheet.locator("[data-help=return]").allTextContents()).toEqual([percent(1 - config.houseEdge), percent(1 - config.houseEdge)]);
    expect(text.replace(/\s+/g, " ")).toContain(`Every cell on offer returns between ${percent(config.minRtp)} and ${percent(1 - config.houseEdge)} on average`);
    // Modal: focus is inside it.
    expect(await page.evaluate(() => document.activeElement?.closest("dialog")?.id)).toBe("help");
    await page.keyboard.press("Escape");
    await waitFor("the sheet closed", async () => !(await sheet.isVisible()), 2000);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("help-open");
    expect(problems).toEqual([]);
  }, 30_000);

  test("with the sound on, a win and a loss each play their tone and a void none; a window no price watched is void and its stake comes back", async () => {
    await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
    // An earlier test left the price elsewhere: back to the start, and a grid priced there (one a second).
    await stack.pump.publish(START_PRICE);
    await Bun.sleep(1200);
    // This test is about results, not quotes: its bets take whatever the cell pays now (web-quotes tests quotes).
    await acceptAnyMultiplier(page);
    await page.locator("[data-testid=sound]").check();
    // Every tone the page starts, by its first frequency (result-sound.ts: 660 Hz rising for a win, 220 Hz for a loss).
    await page.evaluate(() => {
      const tones: number[] = [];
      (window as unknown as { tones: number[] }).tones = tones;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        const node = create.call(this);
        const set = node.frequency.setValueAtTime.bind(node.frequency);
        node.frequency.setValueAtTime = (value: number, at: number) => {
          tones.push(value);
          return set(value, at);
        };
        return node;
      };
    });
    const tones = () => page.evaluate(() => [...(window as unknown as { tones: number[] }).tones]);

    const { win, lose } = await targetCells(3, 3);
    const wonId = await tapAndAccept(win.key, await status().getAttribute("data-bet-id"));
    const lostId = await tapAndAccept(lose.key, wonId);
    await Bun.sleep(Math.max(0, win.tStart + 150 - Date.now()));
    await stack.pump.publish((win.low + win.high) / 2);
    await waitFor("the row marked won", async () => (await row(wonId).getAttribute("data-status")) === "won", 5000);
    await waitFor("the row marked lost", async () => (await row(lostId).getAttribute("data-status")) === "lost", 5000);
    await waitFor("two tones", async () => (await tones()).length === 2 || undefined, 3000);
    expect((await tones()).sort((a, b) => a - b)).toEqual([220, 660]);

    // A bet on a window no price watches: the ticks stop before it opens and come back after it closed, numbered
    // anew (a break in the sequence), so the window is void and the stake refunded (docs/rules.md).
    // Back at the start price, and a grid priced there before the tap.
    await stack.pump.publish(START_PRICE);
    await Bun.sleep(1200);
    const { win: unwatched } = await targetCells(3, 3);
    const balanceBefore = Number(await page.locator("[data-testid=balance]").getAttribute("data-value"));
    const voidId = await tapAndAccept(unwatched.key, lostId);
    await stack.pump.stop();
    expect(unwatched.tStart - Date.now()).toBeGreaterThan(1000);
    await Bun.sleep(Math.max(0, unwatched.tEnd + 700 - Date.now()));
    await stack.restartPump(START_PRICE);
    await waitFor("the row marked void", async () => (await row(voidId).getAttribute("data-status")) === "void", 10_000);
    expect(await row(voidId).locator("[data-testid=bet-result]").textContent()).toBe(`void · $${STAKE} back`);
    expect(storedBet(voidId)).toMatchObject({ status: "void", stake_cents: cents(STAKE) });
    await waitFor("the stake back in the balance", async () => Number(await page.locator("[data-testid=balance]").getAttribute("data-value")) === balanceBefore || undefined, 5000);
    // The void played nothing: still the two tones of the win and the loss.
    await Bun.sleep(300);
    expect(await tones()).toHaveLength(2);
    await page.locator("[data-testid=sound]").uncheck();
    await page.unrouteAll();
    await waitFor("live again", async () => (await page.locator(".paused").isHidden()), 8000);
    // The ticks were stopped on purpose: a grid asked for meanwhile is answered 503 (no fresh price), which the
    // browser logs as a failed resource; nothing else may show.
    expect(problems.filter((problem) => !/AudioContext|status of 503 \(Service Unavailable\)/.test(problem))).toEqual([]);
  }, 30_000);
});
