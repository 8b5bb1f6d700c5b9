import { Type as t, type Static } from "@sinclair/typebox";

/**
 * `POST /api/recovery-code`: the player's new recovery code, shown this once
 * (only its hash is kept). It replaces any code the player had before.
 *
 * ```ts
 * const made: RecoveryCodeCreated = { code: "7K3M-Q9XA-2B8D-W4TZ-H6NP", created_at: 1_767_312_000_000 };
 * ```
 */
export const RecoveryCodeCreated = t.Object(
  {
    code: t.String(),
    created_at: t.Integer({ description: "ms since the epoch" }),
  },
  { examples: [{ code: "7K3M-Q9XA-2B8D-W4TZ-H6NP", created_at: 1_767_312_000_000 }] },
);
export type RecoveryCodeCreated = Static<typeof RecoveryCodeCreated>;

/**
 * `POST /api/session/recover`: a recovery code, as shown or typed (case, spaces
 * and dashes do not matter). The answer is a `SessionCreated` for its player.
 *
 * ```ts
 * const body: RecoverSession = { code: "7k3m q9xa 2b8d w4tz h6np" };
 * ```
 */
export const RecoverSession = t.Object(
  {
    code: t.String({ minLength: 1, maxLength: 64 }),
  },
  { examples: [{ code: "7k3m q9xa 2b8d w4tz h6np" }] },
);
export type RecoverSession = Static<typeof RecoverSession>;
