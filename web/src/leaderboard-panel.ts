import { fetchLeaderboard, fetchNickname, saveNickname } from "./api-client.ts";
import type { Session } from "./session.ts";

/** The leaderboard is read again on the player's own settled bets, at most this often. */
const LEADERBOARD_EVERY_MS = 3000;

/**
 * How often an open, visible page reads the board again, to follow other players' bets as they settle. A read rather
 * than a push: the board is one public list, the API serves it from a cache of at most a second (so any number of
 * pages cost it one query a second), and a push would need a new bus event, a new websocket message and its contract
 * for a list that ten seconds late is still the day's board.
 */
const LEADERBOARD_FOLLOW_MS = 10_000;

const part = <T extends Element>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`page is missing ${selector}`);
  return found;
};

/** `1.62` → `+$1.62`, `-3` → `−$3.00`: a day's net. */
function formatNet(net: number): string {
  return `${net > 0 ? "+" : net < 0 ? "−" : ""}$${Math.abs(net).toFixed(2)}`;
}

/**
 * The player's nickname field and today's leaderboard. `settled()` asks for a fresh leaderboard (after the player's
 * own bet settles); those reads are spaced at least `everyMs` apart, with one more at the end of a burst. Other
 * players' results are followed by reading the board again `followMs` after the last read while the page is
 * visible; a hidden page stops asking and reads at once when it is shown again, if its board is that old.
 *
 * ```ts
 * const board = connectLeaderboardPanel({ root: document.body, session });
 * board.settled();
 * ```
 */
export function connectLeaderboardPanel({
  root,
  session,
  everyMs = LEADERBOARD_EVERY_MS,
  followMs = LEADERBOARD_FOLLOW_MS,
}: {
  root: ParentNode;
  session: Session;
  everyMs?: number;
  followMs?: number;
}) {
  const form = part<HTMLFormElement>(root, "[data-testid=nickname-form]");
  const input = part<HTMLInputElement>(root, "[data-testid=nickname]");
  const said = part<HTMLElement>(root, "[data-testid=nickname-status]");
  const list = part<HTMLOListElement>(root, "[data-testid=leaderboard]");
  const dayEl = part<HTMLElement>(root, "[data-testid=leaderboard-day]");

  let lastReadAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let followTimer: ReturnType<typeof setTimeout> | undefined;

  /** The next follow-up read, `followMs` after the last read; none while the page is hidden. */
  const followLater = () => {
    clearTimeout(followTimer);
    followTimer = undefined;
    if (document.visibilityState !== "visible") return;
    followTimer = setTimeout(() => void read(), Math.max(0, lastReadAt + followMs - performance.now()));
  };

  const read = async () => {
    lastReadAt = performance.now();
    followLater();
    try {
      const { day, entries } = await fetchLeaderboard();
      dayEl.textContent = day;
      list.replaceChildren(
        ...entries.map((entry) => {
          const item = document.createElement("li");
          item.dataset.nickname = entry.nickname;
          item.dataset.net = String(entry.net);
          const name = document.createElement("span");
          name.className = "leader-name";
          name.textContent = `${entry.rank}. ${entry.nickname}`;
          const net = document.createElement("span");
          net.className = "leader-net";
          net.textContent = formatNet(entry.net);
          item.append(name, net);
          return item;
        }),
      );
    } catch {
      // The list stays as it was; the next read (a settled bet, or the follow-up) tries again.
    }
  };

  const settled = () => {
    if (timer) return;
    const wait = Math.max(0, lastReadAt + everyMs - performance.now());
    timer = setTimeout(() => {
      timer = undefined;
      void read();
    }, wait);
  };

  fetchNickname(session).then(
    ({ nickname }) => {
      if (nickname && !input.value) input.value = nickname;
    },
    () => {},
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const nickname = input.value.trim();
    try {
      await saveNickname(session, nickname);
      said.textContent = `You are ${nickname} on the leaderboard.`;
      settled();
    } catch (error) {
      said.textContent = `Not saved: ${(error as Error).message}`;
    }
  });
  document.addEventListener("visibilitychange", followLater);
  void read();
  return { settled };
}
