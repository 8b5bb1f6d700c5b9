import { Type as t, type Static } from "@sinclair/typebox";

/**
 * The services that answer health checks with these contracts.
 *
 * ```ts
 * const component: Component = "api";
 * ```
 */
export const Component = t.Union([t.Literal("api"), t.Literal("ws"), t.Literal("price")]);
export type Component = Static<typeof Component>;

/**
 * Liveness (`GET /health`): the process is up and answering.
 *
 * ```ts
 * const health: Health = { status: "ok", component: "ws" };
 * ```
 */
export const Health = t.Object(
  {
    status: t.Literal("ok"),
    component: Component,
  },
  { examples: [{ status: "ok", component: "api" }] },
);
export type Health = Static<typeof Health>;

/**
 * One dependency's readiness probe: whether it answered, how long it took (ms),
 * and why it failed when it did.
 *
 * ```ts
 * const sqlite: CheckResult = { ok: true, latency_ms: 0.412 };
 * const redis: CheckResult = { ok: false, latency_ms: 1000, error: "redis round trip timed out after 1000 ms" };
 * ```
 */
export const CheckResult = t.Object({
  ok: t.Boolean(),
  latency_ms: t.Number(),
  error: t.Optional(t.String()),
});
export type CheckResult = Static<typeof CheckResult>;

/**
 * What the API's price feed has seen since start: how fresh it is, what it recovered, refused and dropped.
 *
 * ```ts
 * const feed: FeedStatus = {
 *   last_tick_age_ms: 180, last_seq: 52_114, subscribed: true, delivered: 52_110, recovered: 3,
 *   breaks: 1, invalid: 0, old: 2, rejected: { jump: 1 }, read_failures: 0, overflow: 0,
 * };
 * ```
 */
export const FeedStatus = t.Object({
  last_tick_age_ms: t.Union([t.Integer(), t.Null()]),
  last_seq: t.Union([t.Integer(), t.Null()]),
  subscribed: t.Boolean(),
  delivered: t.Integer(),
  recovered: t.Integer(),
  breaks: t.Integer(),
  invalid: t.Integer(),
  old: t.Integer(),
  rejected: t.Record(t.String(), t.Integer()),
  read_failures: t.Integer(),
  overflow: t.Integer(),
});
export type FeedStatus = Static<typeof FeedStatus>;

/**
 * Whether the API has a price it may quote: its last judged tick is at most STALE_MS old.
 *
 * ```ts
 * const price: PriceCheck = { ok: false, age_ms: null, error: "no price yet" };
 * ```
 */
export const PriceCheck = t.Object({
  ok: t.Boolean(),
  /** Age of the last tick, ms; null before the first. */
  age_ms: t.Union([t.Integer(), t.Null()]),
  error: t.Optional(t.String()),
});
export type PriceCheck = Static<typeof PriceCheck>;

/**
 * Readiness: a real write-and-read round trip on each dependency, and a fresh
 * price (without one the API quotes nothing: the index is stale or has no quorum),
 * with the price feed's counters.
 *
 * ```ts
 * const readiness: Readiness = {
 *   status: "ready", component: "api",
 *   checks: { sqlite, redis: { ok: true, latency_ms: 0.9 }, price: { ok: true, age_ms: 180 } },
 *   feed,
 * };
 * ```
 */
export const Readiness = t.Object(
  {
    status: t.Union([t.Literal("ready"), t.Literal("unavailable")]),
    component: Component,
    checks: t.Object({ sqlite: t.Optional(CheckResult), postgres: t.Optional(CheckResult), redis: CheckResult, price: t.Optional(PriceCheck) }),
    feed: t.Optional(FeedStatus),
  },
  {
    examples: [
      {
        status: "ready",
        component: "api",
        checks: { sqlite: { ok: true, latency_ms: 0.412 }, redis: { ok: true, latency_ms: 0.9 }, price: { ok: true, age_ms: 180 } },
        feed: { last_tick_age_ms: 180, last_seq: 52_114, subscribed: true, delivered: 52_110, recovered: 3, breaks: 1, invalid: 0, old: 2, rejected: { jump: 1 }, read_failures: 0, overflow: 0 },
      },
      {
        status: "unavailable",
        component: "api",
        checks: { sqlite: { ok: true, latency_ms: 0.4 }, redis: { ok: false, latency_ms: 1000, error: "redis round trip timed out after 1000 ms" }, price: { ok: false, age_ms: null, error: "no price yet" } },
      },
    ],
  },
);
export type Readiness = Static<typeof Readiness>;
