/**
 * api, ws and price's health port, run as processes, listen on 127.0.0.1 unless
 * HOST says otherwise: a client on another address of the machine cannot skip
 * nginx (and its per-address limits and headers) by calling them directly.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";

// Three processes start per case, each waiting for Redis.
setDefaultTimeout(30_000);

/** An IPv4 address of this machine that is not loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === "IPv4" && !address.internal)?.address;

let redis: TestRedis;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-bound-"));
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The status `GET http://<host>:<port>/healthz` answers, or "refused" when nothing accepts the connection. */
async function healthz(host: string, port: number): Promise<number | "refused"> {
  try {
    return (await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return "refused";
  }
}

/** api, ws and price on free ports with `env` added, once each answers on 127.0.0.1. */
async function startAll(env: Record<string, string>, name: string) {
  const ports = { api: await freePort(), ws: await freePort(), price: await freePort() };
  const services: RunningService[] = [];
  const stop = async () => {
    await Promise.all(services.map((service) => service.stop("SIGKILL")));
  };
  try {
    services.push(spawnService("api", { REDIS_URL: redis.url, DB_PATH: join(dir, `${name}.db`), PORT: String(ports.api), ...env }));
    services.push(spawnService("ws", { REDIS_URL: redis.url, PORT: String(ports.ws), ...env }));
    services.push(spawnService("price", { REDIS_URL: redis.url, PORT: String(ports.price), ...env }));
    for (const port of Object.values(ports)) await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  } catch (error) {
    for (const service of services) console.error(service.name, service.lines.join("\n"));
    await stop();
    throw error;
  }
  return { ports, services, stop };
}

describe.skipIf(!outside)(`bound ports (through this machine's address ${outside ?? "(none)"})`, () => {
  test("by default api, ws and price's health port answer on 127.0.0.1 and refuse the machine's other address", async () => {
    const run = await startAll({}, "default");
    try {
      for (const port of Object.values(run.ports)) {
        expect(await healthz("127.0.0.1", port)).toBe(200);
        expect(await healthz(outside!, port)).toBe("refused");
      }
      for (const service of run.services) expect(service.logs().some((line) => line.host === "127.0.0.1" || line.hostname === "127.0.0.1")).toBe(true);
    } finally {
      await run.stop();
    }
  });

  test("with HOST=0.0.0.0 they answer on the machine's other address too", async () => {
    const run = await startAll({ HOST: "0.0.0.0" }, "everywhere");
    try {
      for (const port of Object.values(run.ports)) expect(await healthz(outside!, port)).toBe(200);
    } finally {
      await run.stop();
    }
  });
});

test("a HOST that is not an address stops each service with the configuration status (78), naming HOST", async () => {
  for (const name of ["api", "ws", "price"] as const) {
    const service = spawnService(name, { REDIS_URL: redis.url, DB_PATH: join(dir, "bad-host.db"), HOST: "everywhere" });
    expect(await service.proc.exited).toBe(78);
    expect(await service.waitForLog("the fatal configuration line", (line) => line.level === "fatal")).toMatchObject({ variable: "HOST", value: "everywhere" });
  }
});

if (!outside) {
  test.skip("bound ports: this machine has no IPv4 address besides loopback, so there is no other address to try", () => {});
}
