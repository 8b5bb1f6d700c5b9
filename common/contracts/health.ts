import { Type as t, type Static } from "@sinclair/typebox";

export const Component = t.Union([t.Literal("api"), t.Literal("ws"), t.Literal("price")]);
export type Component = Static<typeof Component>;

export const Health = t.Object({
  status: t.Literal("ok"),
  component: Component,
});
export type Health = Static<typeof Health>;

export const CheckResult = t.Object({
  ok: t.Boolean(),
  latency_ms: t.Number(),
  error: t.Optional(t.String()),
});
export type CheckResult = Static<typeof CheckResult>;

/** Readiness: a real write-and-read round trip on each dependency. */
export const Readiness = t.Object({
  status: t.Union([t.Literal("ready"), t.Literal("unavailable")]),
  component: Component,
  checks: t.Object({ sqlite: CheckResult, redis: CheckResult }),
});
export type Readiness = Static<typeof Readiness>;
