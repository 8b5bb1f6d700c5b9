import { expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { ErrorBody } from "../contracts/error.ts";
import { errorResponse } from "./error-response.ts";

test("the body is the error contract and the request id is echoed in a header", async () => {
  const response = errorResponse(404, { code: "not_found", message: "no route", requestId: "req-1" });
  expect(response.status).toBe(404);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(response.headers.get("x-request-id")).toBe("req-1");
  const body = await response.json();
  expect(Value.Check(ErrorBody, body)).toBe(true);
  expect(body).toEqual({ error: { code: "not_found", message: "no route", details: [], request_id: "req-1" } });
});

test("details and extra headers go along", async () => {
  const details = [{ path: "/amount", message: "too many decimals" }];
  const response = errorResponse(429, { code: "rate_limited", message: "slow down", requestId: "r", details, headers: { "retry-after": "1" } });
  expect(response.headers.get("retry-after")).toBe("1");
  expect(((await response.json()) as ErrorBody).error.details).toEqual(details);
});
