import type { SessionCreated } from "../../common/contracts/session.ts";
import { createRecoveryCode, recoverSession } from "./api-client.ts";
import type { KeyValueStore, Session } from "./session.ts";

/** Where `session.ts` keeps the guest session; a restored player is kept there the same way. */
const SESSION_KEY = "tap-trading.session";

/**
 * Keeps `created` as the page's session, as `createSession` keeps the one it makes; false when the store refuses.
 *
 * ```ts
 * keepRestoredSession(localStorage, await recoverSession(code));
 * ```
 */
export function keepRestoredSession(store: KeyValueStore | undefined, created: SessionCreated): boolean {
  try {
    if (!store) return false;
    store.setItem(SESSION_KEY, JSON.stringify({ token: created.token, user_id: created.user_id }));
    return true;
  } catch {
    return false;
  }
}

const part = <T extends Element>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`page is missing ${selector}`);
  return found;
};

/**
 * The panel's account part: "Keep this player" shows a recovery code once (with a copy button); "Restore a player"
 * takes a code, keeps the session it names, and calls `onRestored` (the page reloads as that player).
 *
 * ```ts
 * connectAccountPanel({ root: document.body, session, store: localStorage, onRestored: () => location.reload() });
 * ```
 */
export function connectAccountPanel({ root, session, store, onRestored }: { root: ParentNode; session: Session; store: KeyValueStore | undefined; onRestored: () => void }) {
  const keep = part<HTMLButtonElement>(root, "[data-testid=keep-player]");
  const codeBox = part<HTMLElement>(root, "[data-testid=recovery-box]");
  const codeEl = part<HTMLInputElement>(root, "[data-testid=recovery-code]");
  const copy = part<HTMLButtonElement>(root, "[data-testid=recovery-copy]");
  const form = part<HTMLFormElement>(root, "[data-testid=restore-form]");
  const input = part<HTMLInputElement>(root, "[data-testid=restore-code]");
  const said = part<HTMLElement>(root, "[data-testid=account-status]");

  keep.addEventListener("click", async () => {
    keep.disabled = true;
    try {
      const { code } = await createRecoveryCode(session);
      codeEl.value = code;
      codeBox.hidden = false;
      said.textContent = "Write this code down: it is shown once, and it brings this player back on any device.";
    } catch (error) {
      said.textContent = `No code: ${(error as Error).message}`;
    } finally {
      keep.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    codeEl.select();
    try {
      await navigator.clipboard.writeText(codeEl.value);
      said.textContent = "Copied.";
    } catch {
      said.textContent = "Select the code and copy it.";
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) return;
    form.querySelector("button")?.setAttribute("disabled", "");
    try {
      const created = await recoverSession(code);
      if (!keepRestoredSession(store, created)) throw new Error("this browser keeps no session (storage is blocked)");
      said.textContent = "Restored: loading that player…";
      onRestored();
    } catch (error) {
      said.textContent = `Not restored: ${(error as Error).message}`;
    } finally {
      form.querySelector("button")?.removeAttribute("disabled");
    }
  });
}
