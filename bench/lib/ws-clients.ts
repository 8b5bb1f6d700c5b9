/**
 * A load-generator process for bench/ws-fanout.ts: opens `--count` websocket
 * clients to `--url`, sends nothing, and for every message carrying `"ts":<ms>`
 * at or after the publishing start records receive time − ts in a histogram.
 * Messages from before the start (ours sends a snapshot on connect) are only counted
 * as ignored. Talks to its parent over IPC:
 *
 *   parent → child: { type: "start", since } | { type: "report" } | { type: "exit" }
 *   child → parent: { type: "connected", … } | { type: "progress", delivered } | { type: "report", … }
 *
 * Run by the benchmark, not by hand.
 */
import { parseArgs } from "node:util";
import { createHistogram, type LatencyHistogram, recordLatency } from "./stats.ts";

/** What a client process reports at the end of a run. */
export interface ClientsReport {
  type: "report";
  clients: number;
  open: number;
  delivered: number;
  ignoredBeforeStart: number;
  unparsed: number;
  /** Fewest and most counted messages any one client got. */
  minPerClient: number;
  maxPerClient: number;
  closedEarly: number;
  errors: number;
  histogram: LatencyHistogram;
}

export interface ConnectedReport {
  type: "connected";
  opened: number;
  failed: number;
  firstError?: string;
  seconds: number;
}

export type ParentMessage = { type: "start"; since: number } | { type: "report" } | { type: "exit" };

if (import.meta.main) await runClients();

async function runClients(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: "string" }, count: { type: "string" }, concurrency: { type: "string", default: "100" } },
  });
  const url = values.url ?? "";
  const count = Number(values.count);
  const concurrency = Number(values.concurrency);
  if (!url.startsWith("ws://") || !Number.isInteger(count) || count < 1) throw new TypeError("usage: ws-clients.ts --url ws://… --count N");

  let since = Number.POSITIVE_INFINITY;
  const histogram = createHistogram();
  const perClient = new Uint32Array(count);
  const sockets: WebSocket[] = [];
  let delivered = 0;
  let ignoredBeforeStart = 0;
  let unparsed = 0;
  let closedEarly = 0;
  let errors = 0;
  let stopping = false;

  const onMessage = (index: number, data: unknown) => {
    const text = typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString();
    // Cheaper than JSON.parse on every frame; both servers send `"ts":<integer>`.
    const at = text.indexOf('"ts":');
    if (at < 0) {
      unparsed++;
      return;
    }
    const ts = Number.parseInt(text.slice(at + 5, at + 25), 10);
    if (!(ts >= since)) {
      ignoredBeforeStart++;
      return;
    }
    recordLatency(histogram, Date.now() - ts);
    perClient[index]!++;
    delivered++;
  };

  const open = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error("open timed out after 15 s")), 15_000);
      socket.onopen = () => {
        clearTimeout(timer);
        sockets.push(socket);
        resolve();
      };
      socket.onmessage = (event) => onMessage(index, event.data);
      socket.onerror = () => {
        errors++;
        clearTimeout(timer);
        reject(new Error("websocket error before open"));
      };
      socket.onclose = () => {
        if (!stopping) closedEarly++;
      };
    });

  const started = performance.now();
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      try {
        await open(index);
        opened++;
      } catch (error) {
        failed++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const connected: ConnectedReport = { type: "connected", opened, failed, seconds: (performance.now() - started) / 1000 };
  if (firstError !== undefined) connected.firstError = firstError;
  process.send!(connected);

  const progress = setInterval(() => process.send!({ type: "progress", delivered }), 250);
  process.on("message", (message: ParentMessage) => {
    switch (message.type) {
      case "start":
        since = message.since;
        return;
      case "report": {
        let min = Number.POSITIVE_INFINITY;
        let max = 0;
        for (const n of perClient) {
          if (n < min) min = n;
          if (n > max) max = n;
        }
        const report: ClientsReport = {
          type: "report",
          clients: count,
          open: sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length,
          delivered,
          ignoredBeforeStart,
          unparsed,
          minPerClient: min,
          maxPerClient: max,
          closedEarly,
          errors,
          histogram,
        };
        process.send!(report);
        return;
      }
      case "exit":
        stopping = true;
        clearInterval(progress);
        for (const socket of sockets) socket.close();
        setTimeout(() => process.exit(0), 200);
        return;
      default:
        throw new TypeError(`unknown message ${JSON.stringify(message satisfies never)}`);
    }
  });
}
