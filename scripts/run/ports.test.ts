import { expect, test } from "bun:test";
import { anyFreePort, isPortFree, pickHttpPort, pickPort } from "./ports.ts";

test("a port with a listener is not free, on the loopback or any address", async () => {
  using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = server.port ?? 0;
  expect(await isPortFree(port)).toBe(false);
  expect(await isPortFree(port, "127.0.0.1")).toBe(false);
  expect(await pickPort(port)).not.toBe(port);
});

test("a free port is free, and preferred when free", async () => {
  const port = await anyFreePort();
  expect(await isPortFree(port)).toBe(true);
  expect(await pickPort(port)).toBe(port);
});

test("pickHttpPort: never 80 without root, and never a port in use", async () => {
  const port = await pickHttpPort(false);
  expect(port).not.toBe(80);
  expect(await isPortFree(port)).toBe(true);
  if (await isPortFree(80)) return;
  expect(await pickHttpPort(true)).not.toBe(80);
});
