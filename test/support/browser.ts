import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

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
