/** What Tab can reach: enabled controls and links, and elements put in the tab order on purpose. */
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Where Tab (or Shift+Tab, `backwards`) must send the focus to stay among `count` focusable elements when it is on
 * the one at `current` (−1: outside them): the index to focus at either end, or `undefined` in between, where the
 * browser's own move already stays inside.
 *
 * ```ts
 * wrappedTabIndex(5, 4, false); // 0: from the last, Tab goes back to the first
 * wrappedTabIndex(5, 0, true); // 4
 * wrappedTabIndex(5, 2, false); // undefined
 * ```
 */
export function wrappedTabIndex(count: number, current: number, backwards: boolean): number | undefined {
  if (count === 0) return undefined;
  if (current < 0) return backwards ? count - 1 : 0;
  if (backwards) return current === 0 ? count - 1 : undefined;
  return current === count - 1 ? 0 : undefined;
}

/**
 * Keeps Tab and Shift+Tab inside `container` while `active()` holds, as a modal must: from its last focusable
 * element Tab goes to its first, and back. The page behind should also be `inert`; inert alone lets Tab leave the
 * page for the browser's own controls (focus on `document.body`), which a modal must not.
 *
 * ```ts
 * trapTab(document.querySelector<HTMLElement>("#history")!, () => drawerOpen);
 * ```
 */
export function trapTab(container: HTMLElement, active: () => boolean): void {
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || !active()) return;
    const focusable = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
    const current = focusable.indexOf(document.activeElement as HTMLElement);
    const next = wrappedTabIndex(focusable.length, current, event.shiftKey);
    if (next === undefined) return;
    event.preventDefault();
    focusable[next]!.focus();
  });
}
