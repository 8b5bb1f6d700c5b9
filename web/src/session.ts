import type { SessionCreated } from "../../common/contracts/session.ts";

/** Where the guest session is kept, in `localStorage`. */
const KEY = "tap-trading.session";

/**
 * The part of `localStorage` used here; it may throw (storage disabled) and that is fine.
 *
 * ```ts
 * const store: KeyValueStore = localStorage;
 * ```
 */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem?(key: string): void;
}

/**
 * `fetch` as the page calls it: with a path, never a full URL. The page talks to the API through relative
 * URLs only, so it works behind any proxy on the same site.
 *
 * ```ts
 * const fetchImpl: Fetch = (input, init) => fetch(input, init);
 * ```
 */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** What the page keeps of a guest session. */
interface KeptSession {
  token: string;
  user_id: string;
}

/**
 * The guest session: a bearer token made on first use, kept across reloads, replaced once when the API refuses it.
 *
 * ```ts
 * const response = await session.fetch("/api/me");
 * ```
 */
export interface Session {
  /** `fetch` with `Authorization: Bearer …`; a 401 drops the session, makes a new one and sends once more. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** The kept session's player, if there is one yet. */
  userId(): string | undefined;
  /** The bearer token, making a session first if there is none (for the websocket's `auth`). */
  token(): Promise<string>;
  /** Drops `refused` (a token the server no longer knows) and makes a new session, unless another caller already did. */
  renew(refused: string): Promise<string>;
}

function read(store: KeyValueStore | undefined): KeptSession | undefined {
  try {
    const kept = JSON.parse(store?.getItem(KEY) ?? "null") as Partial<KeptSession> | null;
    if (kept && typeof kept.token === "string" && kept.token && typeof kept.user_id === "string") return { token: kept.token, user_id: kept.user_id };
  } catch {
    // Blocked or garbled: a new session.
  }
  return undefined;
}

function write(store: KeyValueStore | undefined, session: KeptSession | undefined) {
  try {
    if (session) store?.setItem(KEY, JSON.stringify(session));
    else store?.removeItem?.(KEY);
  } catch {
    // Not kept; still usable for this page load.
  }
}

/**
 * The page's guest session (`POST /api/session`), kept in `store` as `{token, user_id}`.
 * Concurrent requests share one session creation.
 *
 * ```ts
 * const session = createSession({ store: localStorage });
 * const me = await (await session.fetch("/api/me")).json();
 * ```
 */
export function createSession({ store, fetchImpl = (input, init) => fetch(input, init) }: { store: KeyValueStore | undefined; fetchImpl?: Fetch }): Session {
  let current = read(store);
  let creating: Promise<KeptSession> | undefined;

  const create = () => {
    creating ??= (async () => {
      try {
        const response = await fetchImpl("/api/session", { method: "POST", headers: { accept: "application/json" } });
        if (response.status !== 201) throw new SessionError(response);
        const body = (await response.json()) as SessionCreated;
        current = { token: body.token, user_id: body.user_id };
        write(store, current);
        return current;
      } finally {
        creating = undefined;
      }
    })();
    return creating;
  };

  const send = (session: KeptSession, path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${session.token}`);
    return fetchImpl(path, { ...init, headers });
  };

  return {
    userId: () => current?.user_id,
    token: async () => (current ?? (await create())).token,
    async renew(refused) {
      if (current?.token === refused) {
        current = undefined;
        write(store, undefined);
      }
      return (current ?? (await create())).token;
    },
    async fetch(path, init = {}) {
      const first = current ?? (await create());
      const response = await send(first, path, init);
      if (response.status !== 401) return response;
      // Expired or unknown: forget it, and try once with a new one (unless another request already did).
      if (current === first) {
        current = undefined;
        write(store, undefined);
      }
      return send(current ?? (await create()), path, init);
    },
  };
}

/**
 * `POST /api/session` answered with something other than 201: the response tells why (429 with Retry-After, 503).
 *
 * ```ts
 * if (error instanceof SessionError) console.log(error.response.status); // e.g. 429
 * ```
 */
export class SessionError extends Error {
  constructor(readonly response: Response) {
    super(`could not start a session: the server answered ${response.status}`);
    this.name = "SessionError";
  }
}
