import { Type as t } from "@sinclair/typebox";
import { readPriceSigningKey } from "../common/prices/tick-signature.ts";
import { readSessionSecret } from "../common/sessions/secret.ts";
import { type ConfigOf, envVar, hostVar, loadConfig, logLevelVar, Port, redisUrlFrom } from "../common/config.ts";
import { defaultLimits } from "./limits.ts";

const spec = {
  port: envVar({ name: "PORT", schema: Port, fallback: 8081 }),
  /** 127.0.0.1 unless set: players come through nginx, not to this port. */
  host: hostVar,
  logLevel: logLevelVar,
  /**
   * A peer that answers nothing (no message, no pong) for this long is dropped;
   * the server pings every half of it. Nginx's `proxy_read_timeout` in front of
   * ws must exceed the ping interval (30 s by default; its own default of 60 s does).
   */
  idleTimeoutS: envVar({ name: "WS_IDLE_TIMEOUT_S", schema: t.Integer({ minimum: 2, maximum: 960 }), fallback: defaultLimits.idleTimeoutS }),
  /**
   * Bytes sent to one client and not yet read by it (in ws, the kernel or nginx, as its answers to
   * pings tell): a client above it for WS_SLOW_CLIENT_GRACE_MS is closed (4003). Also ws's own queue
   * limit, past which a client is closed at once.
   */
  backpressureLimitBytes: envVar({
    name: "WS_BACKPRESSURE_LIMIT_BYTES",
    schema: t.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
    fallback: defaultLimits.backpressureLimitBytes,
  }),
  /** How long a client may stay over WS_BACKPRESSURE_LIMIT_BYTES behind before it is closed. */
  slowClientGraceMs: envVar({ name: "WS_SLOW_CLIENT_GRACE_MS", schema: t.Integer({ minimum: 500, maximum: 60_000 }), fallback: defaultLimits.slowClientGraceMs }),
  /** Open websockets per process; past it an upgrade is answered 503. */
  maxConnections: envVar({ name: "WS_MAX_CONNECTIONS", schema: t.Integer({ minimum: 1 }), fallback: defaultLimits.maxConnections }),
  /** Messages a client may send per second (bursts up to the same number); past it: error, then close 1008. */
  maxMessagesPerS: envVar({ name: "WS_MAX_MESSAGES_PER_S", schema: t.Integer({ minimum: 1 }), fallback: defaultLimits.maxMessagesPerS }),
  /**
   * Price subscribers are split over this many topics, one published per turn of the
   * event loop, so other messages (a player's settled bet) pass between them.
   */
  priceShards: envVar({ name: "WS_PRICE_SHARDS", schema: t.Integer({ minimum: 1, maximum: 64 }), fallback: defaultLimits.priceShards }),
  /**
   * A grid's shards go out evenly over this many ms (0: one per event-loop turn), so its
   * thousands of frames, which nginx relays too, do not take the box all at once.
   */
  gridSpreadMs: envVar({ name: "WS_GRID_SPREAD_MS", schema: t.Integer({ minimum: 0, maximum: 400 }), fallback: defaultLimits.gridSpreadMs }),
};

/**
 * The websocket service's settings (see `spec` above for each variable).
 *
 * ```ts
 * const config: WsConfig = readWsConfig(process.env);
 * ```
 */
export type WsConfig = ConfigOf<typeof spec> & { redisUrl: string; sessionSecret: string | undefined; priceSigningKey: string | undefined };

/**
 * The websocket service's settings from the environment; throws a ConfigError naming the bad variable.
 *
 * ```ts
 * const config = readWsConfig({ REDIS_URL: "redis://127.0.0.1:6379", WS_MAX_CONNECTIONS: "500" });
 * config.maxConnections; // 500
 * ```
 */
export function readWsConfig(env: Record<string, string | undefined>): WsConfig {
  const configured = Boolean(env.SESSION_SECRET?.trim() || env.SESSION_SECRET_FILE?.trim());
  // Optional here: without it prices and the grid still flow, and `auth` is refused.
  return {
    ...loadConfig(spec, env),
    redisUrl: redisUrlFrom(env),
    sessionSecret: configured ? readSessionSecret(env) : undefined,
    priceSigningKey: readPriceSigningKey(env),
  };
}
