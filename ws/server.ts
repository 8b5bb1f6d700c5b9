import type { Server, ServerWebSocket } from "bun";
import type { DestinationStream } from "pino";
import type { Bus } from "../common/bus/mod.ts";
import type { LabelledTick } from "../common/contracts/price.ts";
import { type ServerMessage, WS_MAX_MESSAGE_BYTES, WsCloseCode, type WsTopic } from "../common/contracts/ws.ts";
import type { Logger } from "../common/log.ts";
import { withTimeout } from "../common/timeout.ts";
import { fullBucket, type TokenBucket, takeToken } from "../common/token-bucket.ts";
import { type PriceBridgeOptions, type PriceBridgeStats, playerTopic, priceMessage, startBetEventBridge, startGridBridge, startPriceBridge } from "./bridge.ts";
import { readMessage } from "./commands.ts";
import { createCollectionNudge } from "./collection-nudge.ts";
import { createConnectionLog } from "./connection-log.ts";
import { type Liveness, startHeartbeat } from "./heartbeat.ts";
import { errorAnswer, jsonResponse } from "./http.ts";
import { createShardedTopic, type Subscriber } from "./sharded-topic.ts";
import { createUnackedBytes, type Delivery, frameBytes, newDelivery } from "./unacked-bytes.ts";

export interface WsLimits {
  /** A peer silent (no pong, no message) for this long is dropped; pings go out every half of it. */
  idleTimeoutS: number;
  /**
   * Bytes sent to one client and not yet read by it, wherever they sit (ws's queue, the kernel's
   * buffers, nginx): a client that stays above it for `slowClientGraceMs` is closed (ws/unacked-bytes.ts).
   * Also Bun's own limit on ws's queue, past which a client is closed at once.
   */
  backpressureLimitBytes: number;
  /** How long a client may stay more than `backpressureLimitBytes` behind before it is closed. */
  slowClientGraceMs: number;
  /** How often every connection is looked at: how far behind it is, whether its session has expired. */
  sweepMs: number;
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
  slowClientGraceMs: 3000,
  sweepMs: 500,
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
  verifyToken?: (token: string) => { sub: string; exp: number } | undefined;
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
  /** Clients closed for staying more than the limit behind in reading for longer than the grace. */
  connections_slow: number;
  /** Authenticated clients closed because their session token expired. */
  connections_expired: number;
  snapshot_failures: number;
  rss_bytes: number;
}

export interface WsServer {
  port: number;
  stats(): WsStats;
  /** Closes every client with 1001 (going away) and stops listening. */
  shutdown(): Promise<void>;
}

/** What the server keeps on each connection: one object, its budget and byte counts inline (thousands of these are live). */
interface Connection extends Liveness, TokenBucket, Delivery {
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
  /** When the token proven by `auth` expires (ms since the epoch); infinite before any `auth`. */
  expiresAt: number;
  /** This connection as the sharded price topic sees it: joining a shard goes through the byte counts. */
  priceMember: Subscriber | null;
}

type Socket = ServerWebSocket<Connection>;

/** A connection storm's garbage is collected every this many opens (ws/collection-nudge.ts). */
const COLLECT_EVERY_OPENS = 1000;
const HEALTH = JSON.stringify({ status: "ok", component: "ws" });
const TOPICS = new Set<string>(["prices", "grid"] satisfies WsTopic[]);


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
export async function startWsServer({ port, hostname, bus, latestTick, priceHistory, priceSigner, log, logSink, limits: given = {}, verifyToken }: WsServerOptions): Promise<WsServer> {
  const limits: WsLimits = { ...defaultLimits, ...given };
  const messageRate = { rate: limits.maxMessagesPerS, burst: limits.maxMessagesPerS };
  const sockets = new Set<Socket>();
  const connections = createConnectionLog(log, logSink);
  const nudge = createCollectionNudge(COLLECT_EVERY_OPENS, () => Bun.gc(false));
  let connectionsTotal = 0;
  let connectionsRejected = 0;
  let connectionsDead = 0;
  let connectionsSlow = 0;
  let connectionsExpired = 0;
  let snapshotFailures = 0;
  let shuttingDown: (() => void) | undefined;

  // What each client has been sent and has read: every send, publish and subscription goes through these.
  const acks = createUnackedBytes({ limitBytes: limits.backpressureLimitBytes, graceMs: limits.slowClientGraceMs });
  const sendText = (ws: Socket, text: string) => {
    acks.sent(ws.data, frameBytes(Buffer.byteLength(text)));
    ws.sendText(text);
  };
  const send = (ws: Socket, message: ServerMessage) => sendText(ws, JSON.stringify(message));
  const join = (ws: Socket, topic: string) => {
    ws.subscribe(topic);
    acks.joined(ws.data, topic);
  };
  const leave = (ws: Socket, topic: string) => {
    ws.unsubscribe(topic);
    acks.left(ws.data, topic);
  };

  // Bridge first: its publish target is the server, created just below.
  let server: Server<Connection> | undefined;
  /** One publish to every subscriber of `topic`, counted once for all of them. */
  const publish = (topic: string, message: string) => {
    acks.published(topic, frameBytes(Buffer.byteLength(message)));
    return server?.publish(topic, message);
  };
  // A tick reaches thousands of sockets a shard at a time, so a player's settled bet is not kept waiting behind it.
  const prices = createShardedTopic({ name: "prices", shards: limits.priceShards, publish });
  const bridge = await startPriceBridge({
    bus,
    publish: (topic, message, order) => (topic === "prices" ? prices.publish(message, order) : publish(topic, message)),
    log,
    ...(priceHistory ? { history: priceHistory } : {}),
    ...(priceSigner ? { signer: priceSigner } : {}),
  });
  const gridBridge = await startGridBridge({ bus, publish, log });
  const betBridge = await startBetEventBridge({ bus, publish, log });

  // Clients that connect together share one read of the stored price.
  let storedRead: Promise<LabelledTick | undefined> | undefined;
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
    if (latest) sendText(ws, priceMessage(latest));
    prices.subscribe(ws.data.priceMember!, latest?.ts);
  };

  const leavePrices = (ws: Socket) => {
    ws.data.joins++;
    ws.data.wantsPrices = false;
    prices.unsubscribe(ws.data.priceMember!);
  };

  const onText = (ws: Socket, text: string) => {
    const read = readMessage(text);
    if (read.kind === "other") {
      sendText(ws, text);
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
        if (ws.data.playerId && ws.data.playerId !== claims.sub) leave(ws, playerTopic(ws.data.playerId));
        ws.data.playerId = claims.sub;
        ws.data.expiresAt = claims.exp;
        join(ws, playerTopic(claims.sub));
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
            if (latestGrid) sendText(ws, latestGrid);
            join(ws, "grid");
          }
        } else {
          if (channel === "prices") leavePrices(ws);
          else leave(ws, channel);
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
          return errorAnswer(request, 503, "unavailable", "too many connections, try again later");
        }
        const now = Date.now();
        const data: Connection = {
          id: Bun.randomUUIDv7(),
          forwardedFor: request.headers.get("x-forwarded-for") ?? request.headers.get("x-real-ip"),
          openedAt: now,
          alive: true,
          ...fullBucket(limits.maxMessagesPerS, now),
          wantsPrices: false,
          joins: 0,
          closedBy: null,
          expiresAt: Number.POSITIVE_INFINITY,
          priceMember: null,
          ...newDelivery(),
        };
        if (server.upgrade(request, { data })) return undefined;
        return errorAnswer(request, 426, "validation_failed", "expected a websocket upgrade");
      }
      if (path === "/healthz" || path === "/ws/healthz") return new Response(HEALTH, { headers: { "content-type": "application/json" } });
      if (path === "/metrics") return jsonResponse(stats());
      return errorAnswer(request, 404, "not_found", `no route for ${request.method} ${path}`);
    },
    websocket: {
      maxPayloadLength: limits.maxMessageBytes,
      backpressureLimit: limits.backpressureLimitBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: limits.idleTimeoutS,
      sendPings: true,
      perMessageDeflate: false,
      open(ws) {
        ws.data.priceMember = { subscribe: (topic) => join(ws, topic), unsubscribe: (topic) => leave(ws, topic) };
        sockets.add(ws);
        connectionsTotal++;
        connections.opened(ws.data.id, ws.remoteAddress, ws.data.forwardedFor);
        nudge.opened();
        void joinPrices(ws);
      },
      message(ws, message) {
        if (ws.readyState !== 1) return;
        ws.data.alive = true;
        if (!takeToken(ws.data, messageRate, Date.now())) {
          send(ws, { type: "error", code: "rate_limited", message: `more than ${limits.maxMessagesPerS} messages per second` });
          ws.data.closedBy = "rate limit";
          ws.close(WsCloseCode.policyViolation, "rate limit exceeded");
          return;
        }
        if (typeof message === "string") onText(ws, message);
        else {
          acks.sent(ws.data, frameBytes(message.byteLength));
          ws.send(message);
        }
      },
      pong(ws, payload) {
        ws.data.alive = true;
        acks.pong(ws.data, payload);
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        if (ws.data.priceMember) prices.forget(ws.data.priceMember);
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
      connectionsDead++;
      ws.data.closedBy = "no answer to pings";
      ws.terminate();
    },
  });

  /**
   * A client that does not read: the close frame queues behind what it has
   * not read (a client that was only slow still learns why), and Bun drops
   * the socket after its close timeout.
   */
  const closeSlow = (ws: Socket) => {
    connectionsSlow++;
    const behind = ws.data.pingedAt - ws.data.acked;
    send(ws, { type: "error", code: "slow_consumer", message: `${behind} bytes sent and not read for over ${limits.slowClientGraceMs} ms` });
    ws.data.closedBy = "slow reader";
    ws.close(WsCloseCode.slowConsumer, `not reading: ${behind} bytes behind`);
  };

  const expire = (ws: Socket) => {
    connectionsExpired++;
    send(ws, { type: "error", code: "session_expired", message: "the session token has expired; authenticate again" });
    ws.data.closedBy = "session expired";
    ws.close(WsCloseCode.sessionExpired, "session expired");
  };

  // One pass over every connection: cheaper than a timer per socket with 10,000 of them.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const ws of sockets) {
      if (ws.readyState !== 1) continue;
      if (ws.data.expiresAt <= now) expire(ws);
      else if (acks.check(ws, now)) closeSlow(ws);
    }
  }, limits.sweepMs);
  sweep.unref();

  function stats(): WsStats {
    return {
      component: "ws",
      connections: sockets.size,
      connections_total: connectionsTotal,
      connections_rejected: connectionsRejected,
      connections_dead: connectionsDead,
      connections_slow: connectionsSlow,
      connections_expired: connectionsExpired,
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
      clearInterval(sweep);
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
