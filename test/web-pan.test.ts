/**
 * Panning the board in a real browser (the page behind nginx, with redis-server, api and ws as processes, ticks the
 * test publishes itself, Chromium headless), on a desktop (1440×900) and a phone (390×844): a drag, the wheel and
 * Shift+arrows bring hidden columns and rows into view, a drag places no bet, "Now" restores the live view, and a
 * tap still places a bet after panning.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { waitFor } from "./support/wait.ts";
import { acceptAnyMultiplier, startWebStack, type WebStack } from "./support/web-stack.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const START_PRICE = 42_000;

let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack({ name: "web-pan", startPrice: START_PRICE });
}, 30_000);

afterAll(() => stack?.stop());

/** The cells wholly or partly inside the grid's box on screen: their keys, latest column start and lowest band. */
const visible = (page: Page) =>
  page.evaluate(() => {
    const box = document.querySelector(".grid")!.getBoundingClientRect();
    const cells = [...document.querySelectorAll<HTMLButtonElement>("button.cell")].filter((b) => {
      const r = b.getBoundingClientRect();
      return r.right > box.left + 1 && r.left < box.right - 1 && r.bottom > box.top + 1 && r.top < box.bottom - 1;
    });
    return {
      keys: cells.map((b) => b.dataset.key!),
      lastStart: Math.max(...cells.map((b) => Number(b.dataset.tStart))),
      lowest: Math.min(...cells.map((b) => Number(b.dataset.priceLow))),
      highest: Math.max(...cells.map((b) => Number(b.dataset.priceHigh))),
      gridLeft: Math.round(box.left),
      panned: document.querySelector<HTMLElement>(".board")!.dataset.panned ?? "false",
    };
  });

/** The centre of a tappable cell in the middle of the grid, to press on. */
const middleCell = (page: Page) =>
  waitFor("a tappable cell mid-grid", () =>
    page.evaluate(() => {
      const box = document.querySelector(".grid")!.getBoundingClientRect();
      const at = { x: box.left + box.width * 0.6, y: box.top + box.height / 2 };
      const button = document.elementFromPoint(at.x, at.y)?.closest<HTMLButtonElement>("button.cell");
      return button && !button.disabled ? { ...at, key: button.dataset.key! } : undefined;
    }),
  );

async function openBoard(options: BrowserContextOptions) {
  const context: BrowserContext = await stack.browser.browser.newContext(options);
  const page = await context.newPage();
  const bets: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/bets") bets.push(request.url());
  });
  await page.goto(stack.nginx.url);
  await waitFor("the grid's cells", async () => (await page.locator("button.cell:not([disabled])").count()) > 20 || undefined);
  await page.waitForSelector("[data-testid=balance][data-value]");
  return { context, page, bets };
}

/** A drag with the mouse, or on a phone with a finger (touch events through the DevTools protocol). */
async function drag(page: Page, from: { x: number; y: number }, by: { dx: number; dy: number }, touch = false) {
  if (touch) {
    const cdp = await page.context().newCDPSession(page);
    const at = (i: number) => [{ x: from.x + (by.dx * i) / 10, y: from.y + (by.dy * i) / 10 }];
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: at(0) });
    for (let i = 1; i <= 10; i++) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: at(i) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await cdp.detach();
    return;
  }
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(from.x + (by.dx * i) / 10, from.y + (by.dy * i) / 10);
  await page.mouse.up();
}

async function backToNow(page: Page, original: Awaited<ReturnType<typeof visible>>) {
  await page.locator("[data-testid=pan-now]").click();
  await waitFor("the live view again", async () => {
    const view = await visible(page);
    // The view glides back to the price: wait until it is where it started, across and down.
    return view.panned === "false" && !(await page.locator("[data-testid=pan-now]").isVisible()) && view.gridLeft === original.gridLeft && view.lowest === original.lowest
      ? view
      : undefined;
  });
}

for (const device of [
  { name: "desktop", options: { viewport: { width: 1440, height: 900 } }, touch: false },
  { name: "phone", options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, touch: true },
]) {
  describe(`panning the board on a ${device.name}`, () => {
    test("drag, wheel and Shift+arrows show hidden cells; a drag places no bet; Now restores the view; taps still bet", async () => {
      const { context, page, bets } = await openBoard(device.options);
      try {
        const original = await visible(page);
        expect(original.panned).toBe("false");
        expect(await page.locator("[data-testid=pan-now]").isVisible()).toBe(false);

        // A drag to the left (a finger on the phone), starting on a cell: later columns come into view, and no bet is placed.
        const start = await middleCell(page);
        await drag(page, start, { dx: -220, dy: 0 }, device.touch);
        const dragged = await waitFor("later columns after the drag", async () => {
          const view = await visible(page);
          return view.lastStart > original.lastStart ? view : undefined;
        });
        expect(dragged.panned).toBe("true");
        expect(dragged.keys.some((key) => !original.keys.includes(key))).toBe(true);
        await page.waitForTimeout(300);
        expect(bets).toEqual([]);
        expect(await page.locator("[data-testid=pan-now]").isVisible()).toBe(true);
        await backToNow(page, original);

        // The wheel, down: lower bands come into view.
        const box = (await page.locator(".grid").boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 600);
        const wheeled = await waitFor("lower bands after the wheel", async () => {
          const view = await visible(page);
          return view.lowest < original.lowest ? view : undefined;
        });
        expect(wheeled.keys.some((key) => !original.keys.includes(key))).toBe(true);
        await backToNow(page, original);
        expect((await visible(page)).lowest).toBe(original.lowest);

        // Arrows alone move the focus between cells and do not pan; with Shift they pan.
        await page.evaluate(() => document.querySelector<HTMLButtonElement>('button.cell[tabindex="0"]')!.focus());
        await page.keyboard.press("ArrowRight");
        expect((await visible(page)).panned).toBe("false");
        for (let i = 0; i < 4; i++) await page.keyboard.press("Shift+ArrowRight");
        for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+ArrowDown");
        const keyed = await waitFor("later columns and lower bands after Shift+arrows", async () => {
          const view = await visible(page);
          return view.lastStart > original.lastStart && view.lowest < original.lowest ? view : undefined;
        });
        expect(keyed.panned).toBe("true");
        expect(bets).toEqual([]);

        // From the live view, arrows alone walk the focus past the visible columns: the view follows the focused cell.
        await backToNow(page, original);
        await page.evaluate(() => document.querySelector<HTMLButtonElement>('button.cell[tabindex="0"]')!.focus());
        for (let i = 0; i < 12; i++) await page.keyboard.press("ArrowRight");
        const followed = await waitFor("the focused cell in view", () =>
          page.evaluate(() => {
            const focused = document.activeElement as HTMLElement | null;
            if (!focused?.matches("button.cell")) return undefined;
            const grid = document.querySelector(".grid")!.getBoundingClientRect();
            const r = focused.getBoundingClientRect();
            const inside = r.left >= grid.left - 1 && r.right <= grid.right + 1 && r.top >= grid.top - 1 && r.bottom <= grid.bottom + 1;
            return inside ? { panned: document.querySelector<HTMLElement>(".board")!.dataset.panned, start: Number(focused.dataset.tStart) } : undefined;
          }),
        );
        expect(followed.panned).toBe("true");
        expect(followed.start).toBeGreaterThan(original.lastStart);
        expect(bets).toEqual([]);

        // Still panned, a tap on a cell places a bet. This test is about panning, not quotes: the bet takes whatever the
        // cell pays now (a cell holding the price pays less every moment its window nears, so a shown quote rarely holds).
        await acceptAnyMultiplier(page);
        const status = page.locator("[data-testid=bet-status]");
        let answer = "";
        for (let attempt = 0; attempt < 3 && !answer.startsWith("accepted"); attempt++) {
          const target = await middleCell(page);
          const sent = bets.length;
          // The API's answer itself, however long a loaded machine takes to give it.
          const response = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/bets", { timeout: 25_000 });
          if (device.touch) await page.touchscreen.tap(target.x, target.y);
          else await page.mouse.click(target.x, target.y);
          await waitFor("the tap's bet", () => (bets.length === sent + 1 ? true : undefined));
          const answered = await response;
          answer = answered.status() === 202 ? "accepted" : `rejected ${answered.status()}: ${await answered.text()}`;
          if (answer === "accepted") {
            await waitFor("the status says accepted", async () => ((await status.getAttribute("data-state")) === "accepted" && (await status.getAttribute("data-cell-key")) === target.key) || undefined);
          }
        }
        expect(answer).toStartWith("accepted");
        expect((await visible(page)).panned).toBe("true");
        await backToNow(page, original);
      } finally {
        await context.close();
      }
    });
  });
}
