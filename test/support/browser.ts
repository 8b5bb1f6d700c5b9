import { existsSync } from "node:fs";
import { type Browser, chromium, type Page, type Response as PageResponse } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); Playwright's own download is not reachable here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags that let headless Chromium run as root in a container, with no calls home. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Launches headless Chromium through playwright-core. Playwright gives each
 * launch a new, empty profile directory of its own and deletes it on close.
 * Fails with the install command when Chromium is missing.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run web/ensure-chromium.sh (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 30_000 });
  const close = async () => {
    await browser.close().catch(() => {});
  };
  return { browser, close, [Symbol.asyncDispose]: close };
}

/**
 * Collects what must not happen on a page into `problems`: console errors and
 * warnings, and uncaught page errors. A 409 is a refusal the page shows in words
 * (a quote that changed, insufficient funds): Chromium logs it, the tests judge the page.
 *
 * ```ts
 * const problems: string[] = [];
 * recordPageProblems(page, problems);
 * expect(problems).toEqual([]);
 * ```
 */
export function recordPageProblems(page: Page, problems: string[]): void {
  page.on("console", (message) => {
    if (message.text().includes("status of 409")) return;
    if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
}

/**
 * Counts, from now on, the page's GET /api/grid answers of 503 "no fresh price" (the prices stopped or held up):
 * answers the page rides out and Chromium logs as console errors. `forgive` then takes one `logged` line (its exact
 * text, which depends on the protocol) out of `problems` per such answer, and no more; `stop` stops counting.
 *
 * ```ts
 * const staleGrids = watchStaleGrids(page);
 * await stack.pump.stop(); // …
 * staleGrids.stop();
 * staleGrids.forgive(problems, "console error: Failed to load resource: the server responded with a status of 503 ()");
 * ```
 */
export function watchStaleGrids(page: Page) {
  let count = 0;
  const onAnswer = async (answer: PageResponse) => {
    if (answer.status() !== 503 || answer.request().method() !== "GET" || !new URL(answer.url()).pathname.startsWith("/api/grid")) return;
    if ((await answer.text().catch(() => "")).includes("no fresh price")) count++;
  };
  page.on("response", onAnswer);
  return {
    stop: () => void page.off("response", onAnswer),
    forgive(problems: string[], logged: string): void {
      for (let forgiven = 0; forgiven < count && problems.includes(logged); forgiven++) problems.splice(problems.indexOf(logged), 1);
    },
  };
}
