import { expect, test } from "bun:test";
import type { Server } from "bun";
import type { Connection } from "./connection.ts";
import { createRoutes } from "./routes.ts";

function setUp({ accepting = true, upgrades = true } = {}) {
  const upgraded: Connection[] = [];
  let rejected = 0;
  const server = {
    upgrade: (_: Request, { data }: { data: Connection }) => {
      if (upgrades) upgraded.push(data);
      return upgrades;
    },
  } as unknown as Server<Connection>;
  const metrics = async () => new Response("tap_ws_connections 3\n", { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
  const fetch = createRoutes({ accepting: () => accepting, onRejected: () => rejected++, maxMessagesPerS: 7, metrics });
  return { get: async (path: string, headers: Record<string, string> = {}) => fetch(new Request(`http://ws.test${path}`, { headers }), server), upgraded, rejected: () => rejected };
}

test("/ws upgrades with a new connection: its own id, the forwarded address, a full message budget", async () => {
  const { get, upgraded } = setUp();
  expect(await get("/ws", { "x-forwarded-for": "203.0.113.7" })).toBeUndefined();
  expect(upgraded[0]).toMatchObject({ forwardedFor: "203.0.113.7", tokens: 7, alive: true, wantsPrices: false, closedBy: null, wantsGrid: false, topicMember: null });
  expect(upgraded[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
});

test("/ws when not accepting is 503 unavailable, counted", async () => {
  const { get, rejected } = setUp({ accepting: false });
  const response = (await get("/ws"))!;
  expect(response.status).toBe(503);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
  expect(rejected()).toBe(1);
});

test("/ws that is not an upgrade is 426 upgrade_required, with the caller's request id", async () => {
  const { get } = setUp({ upgrades: false });
  const response = (await get("/ws", { "x-request-id": "r-426" }))!;
  expect(response.status).toBe(426);
  expect(await response.json()).toEqual({ error: { code: "upgrade_required", message: "expected a websocket upgrade", details: [], request_id: "r-426" } });
});

test("health under both paths, the metrics text, and a 404 in the error contract otherwise", async () => {
  const { get } = setUp();
  for (const path of ["/healthz", "/ws/healthz"]) expect(await (await get(path))!.json()).toEqual({ status: "ok", component: "ws" });
  const metrics = (await get("/metrics"))!;
  expect(metrics.headers.get("content-type")).toStartWith("text/plain");
  expect(await metrics.text()).toBe("tap_ws_connections 3\n");
  const missing = (await get("/nope"))!;
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "not_found", message: "no route for GET /nope" });
});
