/**
 * A load-generator process for bench/capacity.ts: `--count` whole players
 * through nginx at `--url`. Each opens a session (POST /api/session), opens a
 * websocket at /ws, sends `auth`, subscribes to `prices` and `grid`, and once
 * started taps a bet every `--tap-every-ms` (jittered ±50 %, first tap at a
 * random offset) on an open, offered cell of the latest grid it was pushed,
 * with `min_multiplier` = the multiplier it saw. It records:
 *
 * - bet latency: POST /api/bets sent → answer read (every status), per status;
 * - tick delay: a `price` message's `ts` (the tick's slot) → its receipt;
 * - its own bet events: for every 202, the `accepted` event and the result
 *   (`won`, `lost`, `void`), each with its arrival time.
 *
 * Grids are kept as received text and read (parsed, and expanded from their
 * compact form: common/grid-codec.ts) only when tapping, once per distinct
 * grid in the process: every player is pushed the same grid every second, and
 * reading each copy would make the generator the bottleneck long before the server.
 *
 *   parent → child: { type: "start", since } | { type: "stop" } | { type: "report", graceMs } | { type: "exit" }
 *   child → parent: { type: "connected", … } | { type: "report", … }
 *
 * Run by the benchmark, not by hand.
 */
import { parseArgs } from "node:util";
import type { CompactGrid, Grid, GridCell } from "../../common/contracts/grid.ts";
import { expandGrid } from "../../common/grid-codec.ts";
import { GRID_PUBLISH_PHASE_MS } from "../../api/grid/publisher.ts";
import { createHistogram, type LatencyHistogram, recordLatency } from "./stats.ts";

export interface PlayersConnected {
  type: "connected";
  players: number;
  failed: number;
  firstError?: string;
  seconds: number;
}

export interface PlayersReport {
  type: "report";
  players: number;
  /** Sockets still open at the report. */
  open: number;
  closedEarly: number;
  closeCodes: Record<string, number>;
  taps: number;
  /** Taps skipped: no open, offered cell in the latest grid. */
  noCell: number;
  statuses: Record<string, number>;
  betLatency: LatencyHistogram;
  /** Bet latency of the taps sent in the 300 ms after the grid's publish (`GRID_PUBLISH_PHASE_MS` into each second), and of the rest. */
  betLatencyAfterGrid: LatencyHistogram;
  betLatencyElsewhere: LatencyHistogram;
  tickDelay: LatencyHistogram;
  /** Tick delay of the ticks whose slot is in the 300 ms after the grid's publish, and of the rest. */
  tickDelayAfterGrid: LatencyHistogram;
  tickDelayElsewhere: LatencyHistogram;
  ticks: number;
  grids: number;
  gridBytes: number;
  accepted: number;
  acceptedEvents: number;
  /** 202s whose `accepted` event never came. */
  missingAccepted: number;
  /** 202s whose result (won/lost/void) came by t_end + grace. */
  settledInTime: number;
  /** 202s whose result came after t_end + grace. */
  settledLate: number;
  /** 202s whose result never came. */
  neverSettled: number;
  /** Result receipt − t_end (ms), for results that came. */
  settleDelay: LatencyHistogram;
  results: Record<string, number>;
  /** The latest t_end of a 202 bet (the parent waits for it + grace before asking for the report). */
  lastTEnd: number;
}

/** The api publishes the grid `GRID_PUBLISH_PHASE_MS` into each second; a tap sent this soon after meets the grid's burst on its way. */
const GRID_BURST_MS = 300;

/** Whether `at` (ms since the epoch) falls in the `GRID_BURST_MS` after a grid publish. */
const afterGridPublish = (at: number) => (((at - GRID_PUBLISH_PHASE_MS) % 1000) + 1000) % 1000 < GRID_BURST_MS;

type ParentMessage = { type: "start"; since: number } | { type: "stop" } | { type: "report"; graceMs: number } | { type: "exit" };

interface Bet {
  tEnd: number;
  acceptedAt?: number;
  resultAt?: number;
  result?: string;
}

interface Player {
  token: string;
  socket?: WebSocket;
  grid?: string;
  timer?: ReturnType<typeof setTimeout>;
}

if (import.meta.main) await run();

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      count: { type: "string" },
      "tap-every-ms": { type: "string", default: "5000" },
      concurrency: { type: "string", default: "50" },
      stake: { type: "string", default: "1" },
    },
  });
  const base = values.url ?? "";
  const count = Number(values.count);
  const tapEveryMs = Number(values["tap-every-ms"]);
  const concurrency = Number(values.concurrency);
  const stake = Number(values.stake);
  if (!base.startsWith("http://") || !Number.isInteger(count) || count < 1) throw new TypeError("usage: capacity-players.ts --url http://… --count N");
  const wsUrl = `${base.replace(/^http/, "ws")}/ws`;

  /** Ticks and grids count from `since` (the start) until `until` (the stop). */
  let since = Number.POSITIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  let tapping = false;
  let stopping = false;
  const players: Player[] = [];
  const bets = new Map<string, Bet>();
  /** Events that arrived before their bet's 202 was read. */
  const early = new Map<string, { status: string; at: number }[]>();
  const report: Omit<PlayersReport, "open" | "missingAccepted" | "settledInTime" | "settledLate" | "neverSettled" | "lastTEnd"> = {
    type: "report",
    players: 0,
    closedEarly: 0,
    closeCodes: {},
    taps: 0,
    noCell: 0,
    statuses: {},
    betLatency: createHistogram(),
    betLatencyAfterGrid: createHistogram(),
    betLatencyElsewhere: createHistogram(),
    tickDelay: createHistogram(),
    tickDelayAfterGrid: createHistogram(),
    tickDelayElsewhere: createHistogram(),
    ticks: 0,
    grids: 0,
    gridBytes: 0,
    accepted: 0,
    acceptedEvents: 0,
    settleDelay: createHistogram(60_000),
    results: {},
  };

  const onEvent = (betId: string, status: string, at: number) => {
    const bet = bets.get(betId);
    if (!bet) {
      const list = early.get(betId) ?? [];
      list.push({ status, at });
      early.set(betId, list);
      return;
    }
    if (status === "accepted") {
      bet.acceptedAt ??= at;
      report.acceptedEvents++;
    } else if (bet.resultAt === undefined) {
      bet.resultAt = at;
      bet.result = status;
      report.results[status] = (report.results[status] ?? 0) + 1;
      recordLatency(report.settleDelay, at - bet.tEnd);
    }
  };

  const onMessage = (player: Player, data: unknown) => {
    const now = Date.now();
    const text = typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString();
    if (text.startsWith('{"type":"grid"')) {
      player.grid = text;
      if (now >= since && now < until) {
        report.grids++;
        report.gridBytes += text.length;
      }
      return;
    }
    if (text.startsWith('{"type":"price"')) {
      const at = text.indexOf('"ts":');
      const ts = Number.parseInt(text.slice(at + 5, at + 25), 10);
      if (ts >= since && now < until) {
        recordLatency(report.tickDelay, now - ts);
        recordLatency(afterGridPublish(ts) ? report.tickDelayAfterGrid : report.tickDelayElsewhere, now - ts);
        report.ticks++;
      }
      return;
    }
    const message = JSON.parse(text) as { type: string; bet_id?: string; status?: string };
    if (message.type === "bet" && message.bet_id && message.status) onEvent(message.bet_id, message.status, now);
  };

  // The last grid read, by its text: the players of a process hold copies of the same few grids.
  let lastRead: { text: string; grid: Grid } | undefined;
  const readGrid = (text: string): Grid => {
    if (lastRead?.text !== text) lastRead = { text, grid: expandGrid((JSON.parse(text) as { grid: CompactGrid }).grid) };
    return lastRead.grid;
  };

  const pickCell = (player: Player): GridCell | undefined => {
    if (!player.grid) return undefined;
    const grid = readGrid(player.grid);
    // Open with margin: the grid may be up to a second old, and the cell must not lock on the way.
    const opensAfter = Date.now() + grid.lock_ms + 1_000;
    // Players tap near the price: within five bands of it (an edge row can fall off the grid as the price moves).
    const near = (cell: GridCell) => Math.abs((cell.price_low + cell.price_high) / 2 - grid.price) <= 5 * grid.band;
    const open = grid.cells.filter((cell) => cell.offered && !cell.locked && cell.t_start >= opensAfter && near(cell));
    if (open.length === 0) return undefined;
    // The two nearest open columns, where players tap most (and results come soonest).
    const starts = [...new Set(open.map((cell) => cell.t_start))].sort((a, b) => a - b).slice(0, 2);
    const choices = open.filter((cell) => starts.includes(cell.t_start));
    return choices[Math.floor(Math.random() * choices.length)];
  };

  const tap = async (player: Player) => {
    const cell = pickCell(player);
    if (!cell) {
      report.noCell++;
      return;
    }
    const body = JSON.stringify({
      amount: stake,
      min_multiplier: cell.multiplier,
      cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high },
    });
    const sent = performance.now();
    const afterGrid = afterGridPublish(Date.now());
    let status = "error";
    let betId: string | undefined;
    try {
      const response = await fetch(`${base}/api/bets`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${player.token}` }, body });
      const answer = (await response.json()) as { bet_id?: string; error?: { code?: string } };
      status = answer.error?.code ? `${response.status} ${answer.error.code}` : String(response.status);
      betId = answer.bet_id;
    } catch {
      status = "error";
    }
    report.taps++;
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
    const latency = performance.now() - sent;
    recordLatency(report.betLatency, latency);
    recordLatency(afterGrid ? report.betLatencyAfterGrid : report.betLatencyElsewhere, latency);
    if (status === "202" && betId) {
      report.accepted++;
      bets.set(betId, { tEnd: cell.t_end });
      for (const event of early.get(betId) ?? []) onEvent(betId, event.status, event.at);
      early.delete(betId);
    } else if (status === "202") {
      report.statuses["202 without id"] = (report.statuses["202 without id"] ?? 0) + 1;
    }
  };

  const schedule = (player: Player, delayMs: number) => {
    player.timer = setTimeout(() => {
      if (!tapping) return;
      void tap(player).finally(() => {
        if (tapping) schedule(player, tapEveryMs * (0.5 + Math.random()));
      });
    }, delayMs);
  };

  const join = async (player: Player) => {
    const response = await fetch(`${base}/api/session`, { method: "POST" });
    const session = (await response.json()) as { token?: string };
    if (response.status !== 201 || !session.token) throw new Error(`POST /api/session answered ${response.status}: ${JSON.stringify(session).slice(0, 200)}`);
    player.token = session.token;
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl);
      const timer = setTimeout(() => reject(new Error("no authed + grid within 20 s")), 20_000);
      let authed = false;
      socket.onopen = () => {
        socket.send(JSON.stringify({ type: "auth", token: player.token }));
        socket.send('{"type":"subscribe","channel":"prices"}');
        socket.send('{"type":"subscribe","channel":"grid"}');
      };
      socket.onmessage = (event) => {
        if (!authed && typeof event.data === "string" && event.data.startsWith('{"type":"authed"')) authed = true;
        else onMessage(player, event.data);
        if (authed && player.grid) {
          clearTimeout(timer);
          resolve();
        }
      };
      socket.onerror = () => {
        clearTimeout(timer);
        reject(new Error("websocket error"));
      };
      socket.onclose = (event) => {
        clearTimeout(timer);
        if (!stopping) {
          report.closedEarly++;
          report.closeCodes[event.code] = (report.closeCodes[event.code] ?? 0) + 1;
        }
        reject(new Error(`websocket closed ${event.code} ${event.reason}`));
      };
      player.socket = socket;
    });
  };

  const started = performance.now();
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const player: Player = { token: "" };
      try {
        await join(player);
        players.push(player);
      } catch (error) {
        failed++;
        firstError ??= String(error);
        player.socket?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  report.players = players.length;
  const connected: PlayersConnected = { type: "connected", players: players.length, failed, seconds: (performance.now() - started) / 1000 };
  if (firstError !== undefined) connected.firstError = firstError;
  process.send!(connected);

  process.on("message", (message: ParentMessage) => {
    switch (message.type) {
      case "start":
        since = message.since;
        tapping = true;
        for (const player of players) schedule(player, Math.random() * tapEveryMs);
        return;
      case "stop":
        until = Date.now();
        tapping = false;
        for (const player of players) clearTimeout(player.timer);
        return;
      case "report": {
        let settledInTime = 0;
        let settledLate = 0;
        let neverSettled = 0;
        let missingAccepted = 0;
        let lastTEnd = 0;
        for (const bet of bets.values()) {
          lastTEnd = Math.max(lastTEnd, bet.tEnd);
          if (bet.acceptedAt === undefined) missingAccepted++;
          if (bet.resultAt === undefined) neverSettled++;
          else if (bet.resultAt <= bet.tEnd + message.graceMs) settledInTime++;
          else settledLate++;
        }
        const open = players.filter((player) => player.socket?.readyState === WebSocket.OPEN).length;
        const full: PlayersReport = { ...report, open, missingAccepted, settledInTime, settledLate, neverSettled, lastTEnd };
        process.send!(full);
        return;
      }
      case "exit":
        stopping = true;
        tapping = false;
        for (const player of players) player.socket?.close();
        setTimeout(() => process.exit(0), 300);
        return;
      default:
        throw new TypeError(`unknown message ${JSON.stringify(message satisfies never)}`);
    }
  });
}
