import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createLogger } from "../../common/log.ts";
import { httpFoundation } from "./foundation.ts";
import { HttpError } from "./http-error.ts";
import { createRouteTable } from "./route-table.ts";

/** An app on the foundation whose logger's lines are kept, parsed. */
function appWithCapturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "api", level: "debug", sink: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const routes: { method: string; path: string }[] = [];
  const app = new Elysia()
    .use(httpFoundation({ log, logRequest: () => {}, routeTable: () => createRouteTable(routes) }))
    .get("/unavailable", () => {
      throw new HttpError(503, "unavailable", "no fresh price to quote from", [], { "retry-after": "1" });
    })
    .get("/refused", () => {
      throw new HttpError(409, "cell_locked", "this cell's window starts too soon or has started");
    })
    .get("/broken", () => {
      (undefined as unknown as { price: number }).price;
    });
  routes.push(...app.routes);
  const get = (path: string) => app.handle(new Request(`http://api.test${path}`, { headers: { "x-request-id": `req${path.replace("/", "-")}` } }));
  return { lines, get };
}

describe("errors in the log", () => {
  test("a deliberate 503 is one warn line with its code and message, and no stack", async () => {
    const { lines, get } = appWithCapturedLog();
    const response = await get("/unavailable");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", code: "unavailable", status: 503, msg: "no fresh price to quote from", request_id: "req-unavailable", method: "GET", path: "/unavailable" });
    expect(JSON.stringify(lines[0])).not.toContain("stack");
    expect(lines[0]).not.toHaveProperty("err");
  });

  test("an unexpected throw is 500 and one error line with the stack", async () => {
    const { lines, get } = appWithCapturedLog();
    const response = await get("/broken");
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("internal");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", msg: "unhandled error", request_id: "req-broken", err: { type: "TypeError" } });
    expect(String((lines[0]!.err as { stack: string }).stack)).toContain("TypeError");
  });

  test("a refusal (4xx) and an unknown route add nothing to the log beyond the request line", async () => {
    const { lines, get } = appWithCapturedLog();
    expect((await get("/refused")).status).toBe(409);
    expect((await get("/nowhere")).status).toBe(404);
    expect(lines).toEqual([]);
  });
});
