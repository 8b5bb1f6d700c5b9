import type { Server } from "bun";
import type { DestinationStream } from "pino";
import type { Bus } from "../common/bus/mod.ts";
import type { LabelledTick } from "../common/contracts/price.ts";
import { WsCloseCode } from "../common/contracts/ws.ts";
import type { Logger } from "../common/log.ts";
import { metricsResponse, startProcessMetrics } from "../common/metrics/registry.ts";
import { takeToken } from "../common/token-bucket.ts";
import { type PriceBridgeOptions, startBetEventBridge, startGridBridge, startPriceBridge } from "./bridge.ts";
import { createCollectionNudge } from "./collection-nudge.ts";
import { createCommandHandler, type VerifyToken } from "./command-handler.ts";
import { type Connection, OPEN, type Socket } from "./connection.ts";
import { createConnectionLog } from "./connection-log.ts";
import { createCountedOutput } from "./counted-output.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { defaultLimits, type WsLimits } from "./limits.ts";
import { countPublish, countSends, newConnectionCounts, newMessageCounts, registerWsMetrics, type WsStats, wsStats } from "./metrics.ts";
import { createPriceSubscriptions } from "./price-subscriptions.ts";
import { createRoutes } from "./routes.ts";
import { createGridSubscriptions } from "./grid-subscriptions.ts";
import { createShardedTopic } from "./sharded-topic.ts";
import { startSweep } from "./sweep.ts";
import { createUnackedBytes, frameBytes } from "./unacked-bytes.ts";

export { defaultLimits, type WsLimits } from "./limits.ts";
export type { WsStats } from "./metrics.ts";

/**
 * What the websocket server is built from; only `main.ts` picks the real parts.
 *
 * ```ts
 * const options: WsServerOptions = { port: 0, bus: createMemoryBus(), latestTick: async () => undefined, log };
 * ```
 */
export interface WsServerOptions {
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
  /** Where ticks arrive (`prices:btc:usd`): the Redis bus in production, a memory bus in tests. */
  bus: Bus;
  /** The latest stored price (Redis `price:btc:usd`), sent to each client first. */
  latestTick: () => Promise<LabelledTick | undefined>;
  /** The stored tick history, read back for ticks the channel missed (ws/bridge.ts). */
  priceHistory?: PriceBridgeOptions["history"];
  /** With the price service's key, ticks not signed by it are dropped. */
  priceSigner?: PriceBridgeOptions["signer"];
  log: Logger;
  /**
   * Where `log` writes (`createLogger`'s `sink`): the connection lines are built by hand and written
   * there, cheap in a connection storm (ws/connection-log.ts). Without it they go through `log`.
   */
  logSink?: DestinationStream;
  limits?: Partial<WsLimits>;
  /**
   * Checks `auth` tokens: the player and the token's expiry (ms since the epoch), after which the
   * connection is closed with `session_expired`. Without it `auth` is refused (the API's session
   * secret is not configured here).
   */
  verifyToken?: VerifyToken;
}

/**
 * A running websocket service.
 *
 * ```ts
 * const server = await startWsServer(options);
 * server.stats().connections; // 0
 * await server.shutdown();
 * ```
 */
export interface WsServer {
  port: number;
  stats(): WsStats;
  /** Closes every client with 1001 (going away) and stops listening. */
  shutdown(): Promise<void>;
}

/** A connection storm's garbage is collected every this many opens (ws/collection-nudge.ts). */
const COLLECT_EVERY_OPENS = 1000;
/** How long shutdown waits for clients to close, then for the listener to stop. */
const CLOSE_CLIENTS_MS = 2000;
const STOP_LISTENING_MS = 1000;

/**
 * The websocket service: `/ws` (upgrade), `/healthz`, `/metrics` (the
 * Prometheus text format, ws/metrics.ts), 404 otherwise (ws/routes.ts). Each
 * client is subscribed to `prices` on connect after being sent the latest price
 * (ws/price-subscriptions.ts); ticks reach clients through the bridge,
 * serialised once and published shard by shard (ws/sharded-topic.ts). This
 * file wires the parts and handles the socket lifecycle; commands are answered
 * in ws/command-handler.ts, idle and slow clients found by ws/heartbeat.ts and
 * ws/sweep.ts.
 *
 * ```ts
 * const server = await startWsServer({ port: 0, bus: createMemoryBus(), latestTick: async () => undefined, log });
 * await server.shutdown();
 * ```
 */
export async function startWsServer({ port, hostname, bus, latestTick, priceHistory, priceSigner, log, logSink, limits: given = {}, verifyToken }: WsServerOptions): Promise<WsServer> {
  const limits: WsLimits = { ...defaultLimits, ...given };
  const messageRate = { rate: limits.maxMessagesPerS, burst: limits.maxMessagesPerS };
  const sockets = new Set<Socket>();
  const counts = newConnectionCounts();
  const out = newMessageCounts();
  const connections = createConnectionLog(log, logSink);
  const nudge = createCollectionNudge(COLLECT_EVERY_OPENS, () => Bun.gc(false));
  let shuttingDown: (() => void) | undefined;

  // What each client has been sent and has read: every send, publish and subscription goes through these.
  const acks = createUnackedBytes({ limitBytes: limits.backpressureLimitBytes, graceMs: limits.slowClientGraceMs });
  const output = countSends(createCountedOutput(acks), out);

  // Bridge first: its publish target is the server, created just below.
  let server: Server<Connection> | undefined;
  /** One publish to every subscriber of `topic`, counted once for all of them. */
  const publish = (topic: string, message: string) => {
    acks.published(topic, frameBytes(Buffer.byteLength(message)));
    if (server) countPublish(out, topic, server.subscriberCount(topic));
    return server?.publish(topic, message);
  };
  // A tick reaches thousands of sockets a shard at a time, so a player's settled bet is not kept waiting behind it.
  const priceTopic = createShardedTopic({ name: "prices", shards: limits.priceShards, publish });
  const bridge = await startPriceBridge({
    bus,
    publish: (topic, message, order) => (topic === "prices" ? priceTopic.publish(message, order) : publish(topic, message)),
    log,
    ...(priceHistory ? { history: priceHistory } : {}),
    ...(priceSigner ? { signer: priceSigner } : {}),
  });
  // The grid likewise: one grid is thousands of frames, and nginx relays them too.
  const gridDefer =
    limits.gridSpreadMs > 0 && limits.priceShards > 1 ? (task: () => void) => void setTimeout(task, limits.gridSpreadMs / (limits.priceShards - 1)) : undefined;
  const gridTopic = createShardedTopic({ name: "grid", shards: limits.priceShards, publish, ...(gridDefer ? { defer: gridDefer } : {}) });
  const gridBridge = await startGridBridge({ bus, publish: (_topic, message, order) => gridTopic.publish(message, order), log });
  const betBridge = await startBetEventBridge({ bus, publish, log });

  const prices = createPriceSubscriptions({
    topic: priceTopic,
    latestTick,
    seen: () => bridge.latest(),
    timeoutMs: limits.snapshotTimeoutMs,
    sendText: output.sendText,
    log,
    onReadFailed: () => counts.snapshotFailures++,
  });
  // A refused token is counted here; the handler answers it (4001).
  const checkToken = verifyToken && ((token: string) => verifyToken(token) ?? void counts.authFailures++);
  const grid = createGridSubscriptions({ topic: gridTopic, latest: () => gridBridge.latest(), sendText: output.sendText });
  const onText = createCommandHandler({ output, prices, grid, verifyToken: checkToken });

  const stats = (): WsStats => wsStats(sockets.size, counts, out, { ...bridge.stats(), ...gridBridge.stats(), ...betBridge.stats() });
  startProcessMetrics("ws");
  registerWsMetrics(stats);

  server = Bun.serve<Connection>({
    port,
    ...(hostname === undefined ? {} : { hostname }),
    fetch: createRoutes({
      accepting: () => !shuttingDown && sockets.size < limits.maxConnections,
      onRejected: () => counts.rejected++,
      maxMessagesPerS: limits.maxMessagesPerS,
      metrics: metricsResponse,
    }),
    websocket: {
      maxPayloadLength: limits.maxMessageBytes,
      backpressureLimit: limits.backpressureLimitBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: limits.idleTimeoutS,
      sendPings: true,
      perMessageDeflate: false,
      open(ws) {
        ws.data.topicMember = { subscribe: (topic) => output.join(ws, topic), unsubscribe: (topic) => output.leave(ws, topic) };
        sockets.add(ws);
        counts.total++;
        connections.opened(ws.data.id, ws.remoteAddress, ws.data.forwardedFor);
        nudge.opened();
        void prices.join(ws);
      },
      message(ws, message) {
        if (ws.readyState !== OPEN) return;
        ws.data.alive = true;
        if (!takeToken(ws.data, messageRate, Date.now())) {
          output.send(ws, { type: "error", code: "rate_limited", message: `more than ${limits.maxMessagesPerS} messages per second` });
          ws.data.closedBy = "rate limit";
          ws.close(WsCloseCode.policyViolation, "rate limit exceeded");
          return;
        }
        if (typeof message === "string") onText(ws, message);
        else output.sendBinary(ws, message);
      },
      pong(ws, payload) {
        ws.data.alive = true;
        acks.pong(ws.data, payload);
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        if (ws.data.topicMember) {
          priceTopic.forget(ws.data.topicMember);
          gridTopic.forget(ws.data.topicMember);
        }
        acks.closed(ws.data);
        connections.closed(ws.data.id, code, reason, Date.now() - ws.data.openedAt, ws.data.closedBy ?? "peer");
        if (shuttingDown && sockets.size === 0) shuttingDown();
      },
      error(error, ws) {
        log.error({ conn: ws.data.id, err: error.message }, "websocket handler failed");
      },
    },
  });

  const heartbeat = startHeartbeat({
    sockets,
    everyMs: (limits.idleTimeoutS * 1000) / 2,
    // The heartbeat's pings carry the byte count too: a pong to one acknowledges what came before it.
    ping: (ws) => acks.ping(ws),
    onDead(ws) {
      counts.dead++;
      ws.data.closedBy = "no answer to pings";
      ws.terminate();
    },
  });
  const sweep = startSweep({
    sockets,
    everyMs: limits.sweepMs,
    acks,
    graceMs: limits.slowClientGraceMs,
    send: output.send,
    onSlow: () => counts.slow++,
    onExpired: () => counts.expired++,
  });

  const listening = server;
  return {
    port: listening.port ?? port,
    stats,
    async shutdown() {
      heartbeat.stop();
      sweep.stop();
      await bridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the price bridge"));
      await betBridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the bet event bridge"));
      await gridBridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the grid bridge"));
      const allClosed = new Promise<void>((resolve) => {
        shuttingDown = resolve;
        if (sockets.size === 0) resolve();
      });
      for (const ws of sockets) {
        ws.data.closedBy = "shutdown";
        // 1001 is the hint (docs/ws-messages.md): the page reconnects within half a second, to the new process or another node.
        ws.close(WsCloseCode.goingAway, "server restarting: reconnect");
      }
      await Promise.race([allClosed, Bun.sleep(CLOSE_CLIENTS_MS)]);
      await Promise.race([listening.stop(true), Bun.sleep(STOP_LISTENING_MS)]);
    },
  };
}
