/**
 * Slippage protection in a real browser: the page behind nginx (redis-server, api and ws as processes, Chromium
 * headless), with ticks the test publishes itself. Every bet the page sends names the multiplier shown on the tapped
 * cell (`min_multiplier`) and the grid it came from (`quote_id`). A quote that holds is taken; one that moved is
 * refused with nothing debited, the new multiplier is shown, and one more tap on the cell takes it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import type { Page } from "playwright-core";
import { ONE_SECOND_WINDOWS, startWebStack, type WebStack } from "./support/web-stack.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

const START_PRICE = 42_000;
/** Above any multiplier a cell near the price pays, and no more than the API's highest (`MAX_MULTIPLIER`, 100). */
const UNREACHABLE_MULTIPLIER = 99;
const QUOTE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

let stack: WebStack;
let page: Page;
let problems: string[];
/** The bodies of every POST /api/bets the page sent, in order (as sent, before any rewrite by a route). */
const posts: { min_multiplier?: number; quote_id?: string; cell: { t_start: number; price_low: number } }[] = [];

beforeAll(async () => {
  stack = await startWebStack({ name: "web-quotes", apiEnv: ONE_SECOND_WINDOWS, startPrice: START_PRICE });
  ({ page, problems } = await stack.newPage());
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/bets") posts.push(request.postDataJSON());
  });
  // The multiplier a cell showed at the instant of the click (a capturing listener runs before the page's own), not
  // when the test looked: a grid arriving between the two would otherwise make the test compare the wrong figures.
  await page.addInitScript(() => {
    document.addEventListener(
      "click",
      (event) => {
        const button = (event.target as Element | null)?.closest?.<HTMLButtonElement>("button.cell");
        if (button) (window as unknown as { clickedMultiplier?: number }).clickedMultiplier = Number(button.dataset.multiplier);
      },
      true,
    );
  });
}, 30_000);

afterAll(() => stack?.stop());

function storedBet(betId: string) {
  const db = new Database(stack.dbPath, { readonly: true });
  try {
    return db.query("SELECT multiplier_centi, quote_id, min_multiplier_centi FROM bets WHERE id = ?").get(betId) as {
      multiplier_centi: number;
      quote_id: string | null;
      min_multiplier_centi: number | null;
    } | null;
  } finally {
    db.close();
  }
}

const status = () => page.locator("[data-testid=bet-status]");
const shownBalance = async () => Number(await page.locator("[data-testid=balance]").getAttribute("data-value"));
const multiplierText = (m: number) => (m < 10 ? `${m.toFixed(2)}×` : m < 100 ? `${(Math.floor(m * 10) / 10).toFixed(1)}×` : `${Math.floor(m)}×`);

/**
 * A tappable cell `bands` bands above the price's, in a column opening 3–4.5 s from now. With the price held still,
 * a band four above pays more as its window nears (less time to get there), so its quote holds from grid to tap;
 * the band just above pays less.
 */
async function targetCell(bands: number) {
  return await waitFor("a target cell on screen", () =>
    page.evaluate(({ price, bands }) => {
      const cells = [...document.querySelectorAll<HTMLButtonElement>("button.cell:not([disabled])")];
      const ahead = (b: HTMLButtonElement) => Number(b.dataset.tStart) - Date.now();
      for (const b of cells.filter((c) => ahead(c) > 3000 && ahead(c) < 4500).sort((x, y) => ahead(x) - ahead(y))) {
        const band = Number(b.dataset.priceHigh) - Number(b.dataset.priceLow);
        if (Math.abs(Number(b.dataset.priceLow) - (Math.floor(price / band) + bands) * band) < 1e-6) {
          return { key: b.dataset.key!, tStart: Number(b.dataset.tStart), low: Number(b.dataset.priceLow) };
        }
      }
      return undefined;
    }, { price: START_PRICE, bands }),
  );
}

/** Clicks the cell `key` where it is now (the grid scrolls), and returns the multiplier it showed at the click. */
async function tap(key: string): Promise<number> {
  const at = await page.evaluate((key) => {
    const button = document.querySelector<HTMLButtonElement>(`button.cell[data-key="${key}"]`);
    if (!button || button.disabled) return undefined;
    const r = button.getBoundingClientRect();
    const centre = { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    return document.elementFromPoint(centre.x, centre.y)?.closest("button") === button ? centre : undefined;
  }, key);
  if (!at) throw new Error(`cell ${key} is not tappable`);
  await page.evaluate(() => delete (window as unknown as { clickedMultiplier?: number }).clickedMultiplier);
  await page.mouse.click(at.x, at.y);
  const multiplier = await page.evaluate(() => (window as unknown as { clickedMultiplier?: number }).clickedMultiplier);
  if (multiplier === undefined) throw new Error(`the click at cell ${key} reached no cell`);
  return multiplier;
}

/** The status once the tap on `key` is answered (with words other than `before`, the answer to an earlier tap). */
const answered = (key: string, before?: string | null) =>
  waitFor(
    "the bet answered",
    async () => {
      const [state, cellKey, text] = await Promise.all([status().getAttribute("data-state"), status().getAttribute("data-cell-key"), status().textContent()]);
      return cellKey === key && text !== before && (state === "accepted" || state === "rejected") ? state : undefined;
    },
    5000,
  );

const ready = async () => {
  await page.goto(stack.nginx.url);
  await waitFor("conn live", async () => (await page.locator("[data-testid=conn]").textContent()) === "live");
  await waitFor("the priced grid", async () => (await page.locator("button.cell:not([disabled])").count()) > 20);
  await waitFor("a balance", async () => (await page.locator("[data-testid=balance]").getAttribute("data-value")) !== null);
};

describe("quotes", () => {
  test("a quote that holds is taken: the bet names the multiplier shown and the grid's quote id", async () => {
    await ready();
    const target = await targetCell(4);
    const from = posts.length;
    const shown = await tap(target.key);
    expect(await answered(target.key)).toBe("accepted");
    const sent = posts.slice(from);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.cell).toMatchObject({ t_start: target.tStart, price_low: target.low });
    expect(sent[0]!.min_multiplier).toBe(Math.floor(shown * 100 + 1e-6) / 100);
    expect(sent[0]!.quote_id).toMatch(QUOTE_ID);
    const betId = (await status().getAttribute("data-bet-id"))!;
    const stored = storedBet(betId)!;
    expect(stored.quote_id).toBe(sent[0]!.quote_id!);
    expect(stored.min_multiplier_centi).toBe(Math.round(sent[0]!.min_multiplier! * 100));
    expect(stored.multiplier_centi).toBeGreaterThanOrEqual(stored.min_multiplier_centi!);
    expect(problems).toEqual([]);
  });

  test("a quote that moved is refused with nothing debited; the new multiplier is shown and one more tap takes it", async () => {
    await ready();
    // The price moves between the grid and the tap: the first bet asks for more than the cell pays now.
    let raised = false;
    await page.route("**/api/bets", async (route) => {
      const request = route.request();
      if (request.method() !== "POST" || raised) return route.continue();
      raised = true;
      return route.continue({ postData: JSON.stringify({ ...request.postDataJSON(), min_multiplier: UNREACHABLE_MULTIPLIER }) });
    });
    const before = await shownBalance();
    const target = await targetCell(4);
    const from = posts.length;
    const refusal = page.waitForResponse((response) => response.request().method() === "POST" && new URL(response.url()).pathname === "/api/bets");
    await tap(target.key);
    const body = (await (await refusal).json()) as { error: { code: string; current_multiplier: number } };
    expect(body.error.code).toBe("quote_changed");
    const current = body.error.current_multiplier;
    expect(current).toBeLessThan(UNREACHABLE_MULTIPLIER);
    expect(await answered(target.key)).toBe("rejected");
    expect(await status().getAttribute("data-code")).toBe("quote_changed");
    expect(await status().textContent()).toContain(`Now ${multiplierText(current)} — tap again to take it`);
    expect(await page.locator(`button.cell[data-key="${target.key}"]`).getAttribute("title")).toContain(`Now ${multiplierText(current)}`);
    expect(await shownBalance()).toBe(before);

    // One more tap on the cell takes the multiplier the refusal named. The price keeps moving: should the
    // quote move again before that tap lands, it is refused the same way and the next tap asks the new one.
    let named = current;
    let outcome = "rejected";
    for (let taps = 0; taps < 3 && outcome === "rejected"; taps++) {
      const refused = await status().textContent();
      const answer = page.waitForResponse((response) => response.request().method() === "POST" && new URL(response.url()).pathname === "/api/bets");
      await tap(target.key);
      const response = await answer;
      outcome = (await answered(target.key, refused))!;
      const sentNow = posts.at(-1)!;
      expect(sentNow.min_multiplier).toBe(named);
      expect(sentNow.quote_id).toMatch(QUOTE_ID);
      expect(sentNow.cell).toEqual(posts[from]!.cell);
      if (outcome === "rejected") {
        const again = (await response.json()) as { error: { code: string; current_multiplier: number } };
        expect(again.error.code).toBe("quote_changed");
        named = again.error.current_multiplier;
      }
    }
    expect(outcome).toBe("accepted");
    const stored = storedBet((await status().getAttribute("data-bet-id"))!)!;
    expect(stored.min_multiplier_centi).toBe(Math.round(named * 100));
    expect(stored.multiplier_centi).toBeGreaterThanOrEqual(Math.round(named * 100));
    await waitFor("the stake debited", async () => (await shownBalance()) < before, 3000);
    expect(problems).toEqual([]);
  });

  test("the 2 % tolerance is off until the player turns it on; then a tap asks 2 % below the shown multiplier, and it stays on", async () => {
    await page.unrouteAll();
    await ready();
    const toggle = page.locator("[data-testid=slippage]");
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    const target = await targetCell(4);
    const from = posts.length;
    const shown = await tap(target.key);
    expect(await answered(target.key)).toBe("accepted");
    const sent = posts.slice(from);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.min_multiplier).toBe(Math.floor(shown * 0.98 * 100 + 1e-6) / 100);
    await page.reload();
    await waitFor("the toggle back", () => page.locator("[data-testid=slippage]").isVisible(), 5000);
    expect(await page.locator("[data-testid=slippage]").isChecked()).toBe(true);
    expect(problems).toEqual([]);
  });
});
