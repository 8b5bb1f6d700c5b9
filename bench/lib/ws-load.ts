import { join } from "node:path";
import type { ClientsReport, ConnectedReport, ParentMessage } from "./ws-clients.ts";

/** One load-generator process holding a share of the websocket clients. */
export interface ClientProcess {
  pid: number;
  clients: number;
  /** Messages counted so far (updated every 250 ms). */
  delivered(): number;
  connected: Promise<ConnectedReport>;
  /** Count only messages whose ts ≥ `since` from now on. */
  start(since: number): void;
  report(): Promise<ClientsReport>;
  exit(): Promise<void>;
}

/**
 * Spreads `clients` websocket clients over `processes` child processes running
 * `ws-clients.ts` (separate processes, so each gets its own event loop and its
 * CPU can be read from /proc apart from the server's and ours).
 *
 * ```ts
 * const load = spawnClientProcesses("ws://127.0.0.1:8081/ws", { clients: 5000, processes: 2 });
 * await Promise.all(load.map((p) => p.connected));
 * ```
 */
export function spawnClientProcesses(url: string, options: { clients: number; processes: number; concurrency?: number }): ClientProcess[] {
  const { clients, processes, concurrency = 100 } = options;
  return Array.from({ length: processes }, (_, i) => {
    const share = Math.floor(clients / processes) + (i < clients % processes ? 1 : 0);
    return spawnClientProcess(url, share, concurrency);
  });
}

function spawnClientProcess(url: string, clients: number, concurrency: number): ClientProcess {
  let delivered = 0;
  let onConnected: (report: ConnectedReport) => void = () => {};
  let onReport: ((report: ClientsReport) => void) | undefined;
  const connected = new Promise<ConnectedReport>((resolve) => (onConnected = resolve));
  const proc = Bun.spawn(
    [process.execPath, join(import.meta.dir, "ws-clients.ts"), "--url", url, "--count", String(clients), "--concurrency", String(concurrency)],
    {
      stdout: "inherit",
      stderr: "inherit",
      serialization: "json",
      ipc(message: ConnectedReport | ClientsReport | { type: "progress"; delivered: number }) {
        switch (message.type) {
          case "connected":
            return onConnected(message);
          case "progress":
            delivered = message.delivered;
            return;
          case "report":
            delivered = message.delivered;
            onReport?.(message);
            return;
        }
      },
    },
  );
  const send = (message: ParentMessage) => proc.send(message);
  const died = proc.exited.then((code) => {
    throw new Error(`websocket client process ${proc.pid} exited early with ${code}`);
  });
  died.catch(() => {});
  return {
    pid: proc.pid,
    clients,
    delivered: () => delivered,
    connected: Promise.race([connected, died]),
    start: (since) => send({ type: "start", since }),
    report: () =>
      Promise.race([
        new Promise<ClientsReport>((resolve) => {
          onReport = resolve;
          send({ type: "report" });
        }),
        died,
      ]),
    async exit() {
      if (proc.exitCode === null && proc.signalCode === null) send({ type: "exit" });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
