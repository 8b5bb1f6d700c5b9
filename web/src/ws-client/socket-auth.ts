import { authCommand } from "./client-commands.ts";
import type { OpenSocket } from "./connection.ts";

/**
 * Where the token comes from, and whom to tell when the server refuses it.
 *
 * ```ts
 * const options: SocketAuthOptions = { authToken: () => session.token(), onUnauthorized: (token) => void session.renew(token) };
 * ```
 */
export interface SocketAuthOptions {
  /** The session token, once it is known (a first visit makes the session first). */
  authToken: () => Promise<string>;
  /** The server refused `token`, or it expired while the connection was open. */
  onUnauthorized: (token: string) => void;
}

/**
 * Proves the session on each socket, and says which token a refusal was about.
 *
 * ```ts
 * const auth: SocketAuth = createSocketAuth(options);
 * ```
 */
export interface SocketAuth {
  /** A new socket opened: sends `auth` on it as soon as the token is known, if it is still open then. */
  opened(socket: OpenSocket): void;
  /** The server refused the session on the current socket (`unauthorized`, `session_expired`). */
  refused(): void;
}

/**
 * Proves the player's session token on every (re)connection, so the connection
 * carries their `bet` events. A refusal names the token this socket sent, so the
 * page renews that session and not a newer one; a refusal before any token was
 * sent is not passed on.
 *
 * ```ts
 * const auth = createSocketAuth({ authToken: () => session.token(), onUnauthorized: (token) => session.renew(token) });
 * keepConnected({ url, onState, onOpen: (socket) => auth.opened(socket) });
 * ```
 */
export function createSocketAuth({ authToken, onUnauthorized }: SocketAuthOptions): SocketAuth {
  /** The token the current socket sent in `auth`. */
  let sentToken: string | undefined;
  return {
    opened(socket) {
      sentToken = undefined;
      authToken().then(
        (token) => {
          // The token may come after this socket is gone; the next one sends its own.
          if (!socket.isCurrent()) return;
          sentToken = token;
          socket.send(authCommand(token));
        },
        () => {
          // No session yet (the API is down): prices still flow; the next connection tries again.
        },
      );
    },
    refused() {
      if (sentToken !== undefined) onUnauthorized(sentToken);
    },
  };
}
