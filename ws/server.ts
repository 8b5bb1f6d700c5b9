import type { Server, ServerWebSocket } from "bun";
import type { Bus } from "../common/bus/mod.ts";
import type { Tick } from "../common/contracts/price.ts";
import { type ServerMessage, WS_MAX_MESSAGE_BYTES, WsCloseCode, type WsTopic } from "../common/contracts/ws.ts";
import type { Logger } from "../common/log.ts";
import { withTimeout } from "../common/timeout.ts";
import { type PriceBridgeStats, playerTopic, priceMessage, startBetEventBridge, startGridBridge, startPriceBridge } from "./bridge.ts";
import { readMessage } from "./commands.ts";
import { createCollectionNudge } from "./collection-nudge.ts";
import { createConnectionLog } from "./connection-log.ts";
import { type Liveness, startHeartbeat } from "./heartbeat.ts";
import { errorResponse, jsonResponse } from "./http.ts";
import { fullBudget, type MessageBudget, takeMessage } from "./rate-limit.ts";
import { createShardedTopic } from "./sharded-topic.ts";

export interface WsLimits {
  /** A peer silent (no pong, no message) for this long is dropped; pings go out every half of it. */
  idleTimeoutS: number;
  /** Bytes queued for one client before it is dropped as a slow consumer. */
  backpressureLimitBytes: number;
  /** Open websockets; past it an upgrade is answered 503. */
  maxConnections: number;
  /** Messages per second per client (and the burst allowed). */
  maxMessagesPerS: number;
  /** Largest message a client may send; a larger one closes the connection with 1009. */
  maxMessageBytes: number;
  /** How long a new client waits for the stored price before it is subscribed without one. */
  snapshotTimeoutMs: number;
  /** Price subscribers are split over this many topics, published one per event-loop turn (see sharded-topic.ts). */
  priceShards: number;
}

export const defaultLimits: WsLimits = {
  idleTimeoutS: 60,
  backpressureLimitBytes: 128 * 1024,
  maxConnections: 10_000,
  maxMessagesPerS: 50,
  maxMessageBytes: WS_MAX_MESSAGE_BYTES,
  snapshotTimeoutMs: 1000,
  priceShards: 10,
};

export interface WsServerOptions {
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
  /** Where ticks arrive (`prices:btc:usd`): the Redis bus in production, a memory bus in tests. */
  bus: Bus;
  /** The latest stored price (Redis `price:btc:usd`), sent to each client first. */
  latestTick: () => Promise<Tick | undefined>;
  log: Logger;
  limits?: Partial<WsLimits>;
  /** Checks `auth` tokens; without it `auth` is refused (the API's session secret is not configured here). */
  verifyToken?: (token: string) => { sub: string } | undefined;
}

export interface WsStats extends PriceBridgeStats {
  grids_published: number;
  grids_dropped: number;
  bet_events_relayed: number;
  bet_events_dropped: number;
  component: "ws";
  connections: number;
  connections_total: number;
  connections_rejected: number;
  /** Clients dropped for not answering pings. */
  connections_dead: number;
  snapshot_failures: number;
  rss_bytes: number;
}

export interface WsServer {
  port: number;
  stats(): WsStats;
  /** Closes every client with 1001 (going away) and stops listening. */
  shutdown(): Promise<void>;
}

/** What the server keeps on each connection: one object, its budget inline (thousands of these are live). */
interface Connection extends Liveness, MessageBudget {
  id: string;
  forwardedFor: string | null;
  openedAt: number;
  /** Whether the client wants ticks; bumped `joins` stop a late snapshot from undoing an unsubscribe. */
  wantsPrices: boolean;
  joins: number;
  /** Why the server closed the connection, for the close log. */
  closedBy: string | null;
  /** The player proven by `auth`, whose bet events this connection receives. */
  playerId?: string;
}

type Socket = ServerWebSocket<Connection>;

/** A connection storm's garbage is collected every this many opens (ws/collection-nudge.ts). */
const COLLECT_EVERY_OPENS = 1000;
const HEALTH = JSON.stringify({ status: "ok", component: "ws" });
const TOPICS = new Set<string>(["prices", "grid"] satisfies WsTopic[]);

function send(ws: Socket, message: ServerMessage): void {
  ws.sendText(JSON.stringify(message));
}

/**
 * The websocket service: `/ws` (upgrade), `/healthz`, `/metrics` (JSON
 * counters), 404 otherwise. Each client is subscribed to `prices` on connect
 * after being sent the latest price; ticks reach clients through the bridge,
 * serialised once and published shard by shard (ws/sharded-topic.ts).
 *
 * ```ts
 * const server = await startWsServer({ port: 0, bus: createMemoryBus(), latestTick: async () => undefined, log });
 * await server.shutdown();
 * ```
 */
export async function startWsServer({ port, hostname, bus, latestTick, log, limits: given = {}, verifyToken }: WsServerOptions): Promise<WsServer> {
  const limits: WsLimits = { ...defaultLimits, ...given };
  const sockets = new Set<Socket>();
  const connections = createConnectionLog(log);
  const nudge = createCollectionNudge(COLLECT_EVERY_OPENS, () => Bun.gc(false));
  let connectionsTotal = 0;
  let connectionsRejected = 0;
  let connectionsDead = 0;
  let snapshotFailures = 0;
  let shuttingDown: (() => void) | undefined;

  // Bridge first: its publish target is the server, created just below.
  let server: Server<Connection> | undefined;
  // A tick reaches thousands of sockets a shard at a time, so a player's settled bet is not kept waiting behind it.
  const prices = createShardedTopic({ name: "prices", shards: limits.priceShards, publish: (topic, message) => server?.publish(topic, message) });
  const bridge = await startPriceBridge({
    bus,
    publish: (topic, message, order) => (topic === "prices" ? prices.publish(message, order) : server?.publish(topic, message)),
    log,
  });
  const gridBridge = await startGridBridge({ bus, publish: (topic, message) => server?.publish(topic, message), log });
  const betBridge = await startBetEventBridge({ bus, publish: (topic, message) => server?.publish(topic, message), log });

  // Clients that connect together share one read of the stored price.
  let storedRead: Promise<Tick | undefined> | undefined;
  const readStored = () =>
    (storedRead ??= (async () => {
      try {
        return await withTimeout(latestTick(), limits.snapshotTimeoutMs, "reading the latest price");
      } catch (error) {
        snapshotFailures++;
        log.warn({ err: (error as Error).message }, "could not read the latest price; clients get the next tick");
        return undefined;
      } finally {
        storedRead = undefined;
      }
    })());

  /**
   * Sends the latest price, then subscribes: the snapshot is always the first
   * price a client sees, and the ticks after it are newer (a tick still on its
   * way to this client's shard, or through Redis, is the snapshot itself).
   */
  const joinPrices = async (ws: Socket) => {
    const join = ++ws.data.joins;
    ws.data.wantsPrices = true;
    const stored = await readStored();
    if (ws.readyState !== 1 || ws.data.joins !== join) return;
    // A tick that went by while the store was read is newer than the stored one.
    const seen = bridge.latest();
    const latest = stored && seen ? (seen.ts > stored.ts ? seen : stored) : (stored ?? seen);
    if (latest) ws.sendText(priceMessage(latest));
    prices.subscribe(ws, latest?.ts);
  };

  const leavePrices = (ws: Socket) => {
    ws.data.joins++;
    ws.data.wantsPrices = false;
    prices.unsubscribe(ws);
  };

  const onText = (ws: Socket, text: string) => {
    const read = readMessage(text);
    if (read.kind === "other") {
      ws.sendText(text);
      return;
    }
    if (read.kind === "malformed") {
      send(ws, { type: "error", code: "bad_command", message: `malformed ${read.type} command` });
      return;
    }
    const command = read.command;
    switch (command.type) {
      case "ping":
        send(ws, { type: "pong", ts: Date.now() });
        return;
      case "auth": {
        const claims = verifyToken?.(command.token);
        if (!claims) {
          send(ws, { type: "error", code: "unauthorized", message: verifyToken ? "invalid or expired session token" : "this server cannot check session tokens" });
          ws.data.closedBy = "bad auth";
          ws.close(WsCloseCode.unauthorized, "unauthorized");
          return;
        }
        if (ws.data.playerId && ws.data.playerId !== claims.sub) ws.unsubscribe(playerTopic(ws.data.playerId));
        ws.data.playerId = claims.sub;
        ws.subscribe(playerTopic(claims.sub));
        send(ws, { type: "authed", user_id: claims.sub });
        return;
      }
      case "subscribe":
      case "unsubscribe": {
        if (!TOPICS.has(command.channel)) {
          send(ws, { type: "error", code: "unknown_channel", message: `no channel named ${JSON.stringify(command.channel)}`, channel: command.channel });
          return;
        }
        const channel = command.channel as WsTopic;
        if (command.type === "subscribe") {
          send(ws, { type: "subscribed", channel });
          if (channel === "prices" && !ws.data.wantsPrices) void joinPrices(ws);
          if (channel === "grid" && !ws.isSubscribed("grid")) {
            const latestGrid = gridBridge.latestMessage();
            if (latestGrid) ws.sendText(latestGrid);
            ws.subscribe("grid");
          }
        } else {
          if (channel === "prices") leavePrices(ws);
          else ws.unsubscribe(channel);
          send(ws, { type: "unsubscribed", channel });
        }
        return;
      }
      default: {
        const unhandled: never = command;
        throw new TypeError(`unhandled command ${JSON.stringify(unhandled)}`);
      }
    }
  };

  server = Bun.serve<Connection>({
    port,
    ...(hostname === undefined ? {} : { hostname }),
    fetch(request, server) {
      const path = new URL(request.url).pathname;
      if (path === "/ws") {
        if (shuttingDown || sockets.size >= limits.maxConnections) {
          connectionsRejected++;
          return errorResponse(request, 503, "unavailable", "too many connections, try again later");
        }
        const now = Date.now();
        const data: Connection = {
          id: Bun.randomUUIDv7(),
          forwardedFor: request.headers.get("x-forwarded-for") ?? request.headers.get("x-real-ip"),
          openedAt: now,
          alive: true,
          ...fullBudget(limits.maxMessagesPerS, now),
          wantsPrices: false,
          joins: 0,
          closedBy: null,
        };
        if (server.upgrade(request, { data })) return undefined;
        return errorResponse(request, 426, "validation_failed", "expected a websocket upgrade");
      }
      if (path === "/healthz" || path === "/ws/healthz") return new Response(HEALTH, { headers: { "content-type": "application/json" } });
      if (path === "/metrics") return jsonResponse(stats());
      return errorResponse(request, 404, "not_found", `no route for ${request.method} ${path}`);
    },
    websocket: {
      maxPayloadLength: limits.maxMessageBytes,
      backpressureLimit: limits.backpressureLimitBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: limits.idleTimeoutS,
      sendPings: true,
      perMessageDeflate: false,
      open(ws) {
        sockets.add(ws);
        connectionsTotal++;
        connections.opened(ws.data.id, ws.remoteAddress, ws.data.forwardedFor);
        nudge.opened();
        void joinPrices(ws);
      },
      message(ws, message) {
        if (ws.readyState !== 1) return;
        ws.data.alive = true;
        if (!takeMessage(ws.data, limits.maxMessagesPerS, Date.now())) {
          send(ws, { type: "error", code: "rate_limited", message: `more than ${limits.maxMessagesPerS} messages per second` });
          ws.data.closedBy = "rate limit";
          ws.close(WsCloseCode.policyViolation, "rate limit exceeded");
          return;
        }
        if (typeof message === "string") onText(ws, message);
        else ws.send(message);
      },
      pong(ws) {
        ws.data.alive = true;
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        prices.forget(ws);
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
    onDead(ws) {
      connectionsDead++;
      ws.data.closedBy = "no answer to pings";
      ws.terminate();
    },
  });

  function stats(): WsStats {
    return {
      component: "ws",
      connections: sockets.size,
      connections_total: connectionsTotal,
      connections_rejected: connectionsRejected,
      connections_dead: connectionsDead,
      snapshot_failures: snapshotFailures,
      ...bridge.stats(),
      ...gridBridge.stats(),
      ...betBridge.stats(),
      rss_bytes: process.memoryUsage.rss(),
    };
  }

  const listening = server;
  return {
    port: listening.port ?? port,
    stats,
    async shutdown() {
      heartbeat.stop();
      await bridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the price bridge"));
      await betBridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the bet event bridge"));
      await gridBridge.stop().catch((error: Error) => log.warn({ err: error.message }, "could not unsubscribe the grid bridge"));
      const allClosed = new Promise<void>((resolve) => {
        shuttingDown = resolve;
        if (sockets.size === 0) resolve();
      });
      for (const ws of sockets) {
        ws.data.closedBy = "shutdown";
        ws.close(WsCloseCode.goingAway, "server shutting down");
      }
      await Promise.race([allClosed, Bun.sleep(2000)]);
      await Promise.race([listening.stop(true), Bun.sleep(1000)]);
    },
  };
}
