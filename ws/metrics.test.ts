import { expect, test } from "bun:test";
import { createMemoryBus } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import { createLogger } from "../common/log.ts";
import { scrapeValue } from "../common/metrics/samples.ts";
import { createSessionTokens } from "../common/sessions/token.ts";
import { waitFor } from "../test/support/wait.ts";
import { connectClient } from "./_test-client.ts";
import { startWsServer } from "./server.ts";

const log = createLogger({ component: "ws", level: "silent" });

/** One value from the server's `GET /metrics`. */
const sample = (port: number, name: string, labels: Record<string, string> = {}) => scrapeValue(`http://127.0.0.1:${port}/metrics`, name, labels);

test("GET /metrics shows the open sockets, the refused tokens and the messages delivered, in the Prometheus text format", async () => {
  const tokens = createSessionTokens("s".repeat(32));
  const bus = createMemoryBus();
  const server = await startWsServer({ port: 0, hostname: "127.0.0.1", bus, latestTick: async () => undefined, log, verifyToken: (token) => tokens.verify(token, Date.now()) });
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    const text = await response.text();
    expect(text).toContain("# TYPE tap_ws_connections gauge");
    expect(text).toContain("# TYPE tap_ws_auth_failures_total counter");
    // The service label is the process's (startProcessMetrics): bun test runs many suites in one process.
    expect(text).toMatch(/^tap_ws_connections\{service="[a-z]+"\} 0$/m);

    await using player = await connectClient(`ws://127.0.0.1:${server.port}/ws`);
    await using stranger = await connectClient(`ws://127.0.0.1:${server.port}/ws`);
    await waitFor("two sockets", async () => (await sample(server.port, "tap_ws_connections")) === 2);
    player.ws.send(JSON.stringify({ type: "auth", token: tokens.sign({ sub: "p1", exp: Date.now() + 60_000 }) }));
    await player.next("authed", (m) => m.type === "authed");
    stranger.ws.send(JSON.stringify({ type: "auth", token: "not-a-token" }));
    await stranger.closed;
    expect(await sample(server.port, "tap_ws_auth_failures_total")).toBe(1);
    await waitFor("one socket", async () => (await sample(server.port, "tap_ws_connections")) === 1);

    const betEvents = async () => (await sample(server.port, "tap_ws_messages_out_total", { kind: "bet_events" })) ?? 0;
    const before = await betEvents();
    await bus.publish(Channels.betEvents, JSON.stringify([{ player_id: "p1", event: { type: "bet", bet_id: "b1", status: "accepted", payout: 0, balance: 1000 } }]));
    await player.next("the bet event", (m) => m.type === "bet");
    expect(await betEvents()).toBe(before + 1);
    expect(await sample(server.port, "tap_ws_messages_out_total", { kind: "direct" })).toBeGreaterThanOrEqual(1);
  } finally {
    await server.shutdown();
    await bus.close();
  }
});
