import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { LatestGrid } from "./grid-subscriptions.ts";
import type { Bus, Unsubscribe } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import { BetEventEnvelope } from "../common/contracts/bet-event.ts";
import { CompactGrid } from "../common/contracts/grid.ts";
import type { LabelledTick, PriceMessage } from "../common/contracts/price.ts";
import type { WsTopic } from "../common/contracts/ws.ts";
import { compactGridMismatch } from "../common/grid-codec.ts";
import type { Logger } from "../common/log.ts";
import { parseBusTick } from "../common/prices/parse-tick.ts";
import { createTickSequencer } from "../common/prices/tick-sequencer.ts";
import type { TickSigner } from "../common/prices/tick-signature.ts";
import { labelled, type TickStore } from "../common/prices/tick-store.ts";

/**
 * Sends one already serialised message to every socket subscribed to `topic`
 * (`server.publish`). A price carries its tick's time as `order`, so a client
 * sent that tick as its snapshot is not sent it again.
 *
 * ```ts
 * const publish: PublishToTopic = (topic, message) => server.publish(topic, message);
 * ```
 */
export type PublishToTopic = (topic: WsTopic | `player:${string}`, message: string, order?: number) => unknown;

/**
 * What the price bridge reads from and writes to.
 *
 * ```ts
 * const options: PriceBridgeOptions = { bus, publish, log, history: ticks, signer };
 * ```
 */
export interface PriceBridgeOptions {
  bus: Bus;
  publish: PublishToTopic;
  log: Logger;
  /** The stored tick history, read back for ticks the channel missed; without it a missed tick stays missed. */
  history?: Pick<TickStore, "history">;
  /** With a key, a tick without a valid signature is dropped. */
  signer?: TickSigner;
  /** Stamps plain "42012.34" ticks, which carry no time of their own. */
  now?: () => number;
}

/**
 * The price bridge's counters, part of `GET /metrics`.
 *
 * ```ts
 * const { ticks_published, ticks_dropped } = bridge.stats();
 * ```
 */
export interface PriceBridgeStats {
  /** Ticks published to the `prices` topic. */
  ticks_published: number;
  /** Of those, ticks read back from the history after the channel missed them. */
  ticks_recovered: number;
  /** Messages on the price channel that were not a valid tick (malformed, or not signed by the key). */
  ticks_dropped: number;
}

/**
 * A running price bridge.
 *
 * ```ts
 * const bridge = await startPriceBridge({ bus, publish, log });
 * bridge.latest(); // the newest tick seen, or undefined
 * await bridge.stop();
 * ```
 */
export interface PriceBridge {
  /** The newest tick seen on the channel since start. */
  latest(): LabelledTick | undefined;
  stats(): PriceBridgeStats;
  stop(): Promise<void>;
}

/** How long a gap is waited on while the history is read: a client wants the next price soon, not a long wait for a history that is down. */
const HISTORY_FILL_TIMEOUT_MS = 1000;

/**
 * The websocket message for a tick; its `ts` is the tick's own time. The tick's
 * `source` and venue count go along when it has them (not its signature or
 * sequence number: those are for the services).
 *
 * ```ts
 * priceMessage({ symbol: "BTC-USD", price: 42000.5, ts: 1, source: "venues", venues: 3 });
 * // '{"type":"price","symbol":"BTC-USD","price":42000.5,"ts":1,"source":"venues","venues":3}'
 * ```
 */
export function priceMessage(tick: LabelledTick): string {
  const message: PriceMessage = { type: "price", symbol: tick.symbol, price: tick.price, ts: tick.ts };
  if (tick.source !== undefined) message.source = tick.source;
  if (tick.venues !== undefined) message.venues = tick.venues;
  return JSON.stringify(message);
}

/**
 * The one place where bus messages become websocket messages: each tick on
 * `prices:btc:usd` is serialised once and published once to the `prices`
 * topic, whatever the number of clients. Ticks go out in order, each once: a
 * tick the channel skipped (a reconnect) is read back from the stored history
 * and sent before the next one (common/prices/tick-sequencer.ts). Anything
 * that is not a valid tick is dropped, counted and warned about; it never throws.
 *
 * ```ts
 * const bridge = await startPriceBridge({ bus, publish: (topic, m) => server.publish(topic, m), history, log });
 * ```
 */
export async function startPriceBridge({ bus, publish, log, history, signer, now = Date.now }: PriceBridgeOptions): Promise<PriceBridge> {
  const sequencer = createTickSequencer({
    readHistory: (after, to, limit) => (history ? history.history(after, to, limit) : Promise.resolve([])),
    accept(raw, receivedAt) {
      const tick = parseBusTick(raw, receivedAt);
      return tick && (!signer || signer.verify(tick)) ? tick : undefined;
    },
    deliver: ({ tick }) => void publish("prices", priceMessage(tick), tick.ts),
    historyFrom: now(),
    log,
    now,
    fillTimeoutMs: HISTORY_FILL_TIMEOUT_MS,
  });

  const unsubscribe: Unsubscribe = await bus.subscribe(Channels.priceTicks, (raw) => sequencer.push(raw));
  // What was published while the subscriber was away is read back at once, not at the next tick.
  bus.onReconnect(() => void sequencer.catchUp("reconnect"));
  log.debug({ channel: Channels.priceTicks, topic: "prices" }, "price bridge subscribed");
  return {
    latest() {
      const tick = sequencer.last();
      return tick && labelled(tick);
    },
    stats() {
      const { delivered, recovered, invalid } = sequencer.stats();
      return { ticks_published: delivered, ticks_recovered: recovered, ticks_dropped: invalid };
    },
    stop: unsubscribe,
  };
}

/**
 * The grid bridge: the latest grid, its counters, and `stop`.
 *
 * ```ts
 * const grids = await startGridBridge({ bus, publish, log });
 * grids.stats(); // { grids_published: 0, grids_dropped: 0 }
 * ```
 */
export interface GridBridge {
  /** The latest grid as a ready-to-send websocket message, numbered in the order published (from 1). */
  latest(): LatestGrid | undefined;
  stats(): { grids_published: number; grids_dropped: number };
  stop(): Promise<void>;
}

/** A dropped message is warned about once per this many, with a sample of this many characters. */
const WARN_EVERY_DROPS = 100;
const SAMPLE_CHARS = 120;

// The contracts the API's publishers are tested against, compiled once: a check per message is then a few property reads.
const isCompactGrid = TypeCompiler.Compile(CompactGrid);
const isBetEventEnvelope = TypeCompiler.Compile(BetEventEnvelope);

/** JSON.parse that answers undefined for text that is not JSON. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** A compact grid of the contract whose arrays agree with its columns and bands. */
function isGrid(value: unknown): value is CompactGrid {
  return isCompactGrid.Check(value) && compactGridMismatch(value) === undefined;
}

/**
 * Relays the priced grid from the API (`grid:btc:usd`, compact) to the `grid`
 * topic, wrapped as `{"type":"grid","grid":…}` once per grid. A message that
 * is not a `CompactGrid` (common/contracts/grid.ts) whose arrays agree with
 * its columns and bands is dropped and counted.
 *
 * ```ts
 * const grids = await startGridBridge({ bus, publish: (topic, m) => server.publish(topic, m), log });
 * grids.latest(); // { message: '{"type":"grid","grid":{…}}', order: 1 }, sent to a client as it subscribes
 * ```
 */
export async function startGridBridge({ bus, publish, log }: Pick<PriceBridgeOptions, "bus" | "publish" | "log">): Promise<GridBridge> {
  let latest: LatestGrid | undefined;
  let published = 0;
  let dropped = 0;
  const unsubscribe = await bus.subscribe(Channels.grid, (raw) => {
    if (!isGrid(parseJson(raw))) {
      if (dropped++ % WARN_EVERY_DROPS === 0) log.warn({ channel: Channels.grid, sample: raw.slice(0, SAMPLE_CHARS), dropped }, "dropped a message that is not a grid");
      return;
    }
    // The API serialised it; wrapping the text avoids serialising it again.
    latest = { message: `{"type":"grid","grid":${raw}}`, order: ++published };
    publish("grid", latest.message, latest.order);
  });
  return {
    latest: () => latest,
    stats: () => ({ grids_published: published, grids_dropped: dropped }),
    stop: unsubscribe,
  };
}

/**
 * The topic a player's authenticated connections are subscribed to.
 *
 * ```ts
 * playerTopic("p_1"); // "player:p_1"
 * ```
 */
export const playerTopic = (playerId: string) => `player:${playerId}` as const;

/**
 * The bet event bridge: its counters and `stop`.
 *
 * ```ts
 * const events = await startBetEventBridge({ bus, publish, log });
 * events.stats(); // { bet_events_relayed: 0, bet_events_dropped: 0 }
 * ```
 */
export interface BetEventBridge {
  stats(): { bet_events_relayed: number; bet_events_dropped: number };
  stop(): Promise<void>;
}

/**
 * Relays per-player bet events from the API (`bets:events`, a `BetEventBatch`
 * per message; a lone envelope is taken too) to the player's own connections
 * on this process: one publish per event to `player:<id>`, so no other player
 * hears it. An envelope that is not a `BetEventEnvelope`
 * (common/contracts/bet-event.ts) is dropped and counted; the rest of its
 * batch still goes out.
 *
 * ```ts
 * const events = await startBetEventBridge({ bus, publish: (topic, m) => server.publish(topic, m), log });
 * await events.stop();
 * ```
 */
export async function startBetEventBridge({ bus, publish, log }: Pick<PriceBridgeOptions, "bus" | "publish" | "log">): Promise<BetEventBridge> {
  let relayed = 0;
  let dropped = 0;
  const drop = (raw: string) => {
    if (dropped++ % WARN_EVERY_DROPS === 0) log.warn({ channel: Channels.betEvents, sample: raw.slice(0, SAMPLE_CHARS), dropped }, "dropped a malformed bet event");
  };
  const relay = (envelope: unknown, raw: string) => {
    if (!isBetEventEnvelope.Check(envelope)) {
      drop(raw);
      return;
    }
    relayed++;
    publish(playerTopic(envelope.player_id), JSON.stringify(envelope.event));
  };
  const unsubscribe = await bus.subscribe(Channels.betEvents, (raw) => {
    const message = parseJson(raw);
    if (!Array.isArray(message)) relay(message, raw);
    else if (message.length === 0) drop(raw);
    else for (const envelope of message) relay(envelope, raw);
  });
  return {
    stats: () => ({ bet_events_relayed: relayed, bet_events_dropped: dropped }),
    stop: unsubscribe,
  };
}
