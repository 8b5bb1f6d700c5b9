import { startApp } from "./app.ts";
import { createSession } from "./session.ts";

/** localStorage, or nothing when the browser blocks it. */
function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

const store = storage();
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
startApp({
  root: document.body,
  wsUrl: `${scheme}//${location.host}/ws`,
  session: createSession({ store }),
  store,
});
