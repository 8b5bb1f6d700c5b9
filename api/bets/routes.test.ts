import { expect, test } from "bun:test";
import { HttpError } from "../http/http-error.ts";
import { BetRefused } from "./bet-refused.ts";
import { refusalAnswer } from "./routes.ts";

test("each refusal becomes its status and code in the error contract, with its message, details and Retry-After", () => {
  const answer = (refused: BetRefused) => {
    const error = refusalAnswer(refused) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    return { status: error.status, code: error.code, message: error.message, details: error.details, headers: error.headers };
  };
  const detail = [{ path: "/amount", message: "below the minimum stake" }];
  expect(answer(new BetRefused("rate_limited", "too many bets; slow down", [], { retryAfterMs: 1001 }))).toEqual({
    status: 429,
    code: "rate_limited",
    message: "too many bets; slow down",
    details: [],
    headers: { "retry-after": "2" },
  });
  expect(answer(new BetRefused("no_price", "no fresh price to quote from", [], { retryAfterMs: 1000 }))).toMatchObject({ status: 503, code: "unavailable", headers: { "retry-after": "1" } });
  expect(answer(new BetRefused("stake_out_of_range", "stake must be between 0.1 and 100", detail))).toEqual({
    status: 409,
    code: "limit_exceeded",
    message: "stake must be between 0.1 and 100",
    details: detail,
    headers: {},
  });
  expect(answer(new BetRefused("invalid", "bet is not valid"))).toMatchObject({ status: 400, code: "validation_failed" });
  expect(answer(new BetRefused("off_grid", "x"))).toMatchObject({ status: 400, code: "off_grid" });
  expect(answer(new BetRefused("unknown_player", "no such player"))).toMatchObject({ status: 401, code: "unauthorized", headers: {} });
  expect(answer(new BetRefused("limit_exceeded", "x"))).toMatchObject({ status: 409, code: "limit_exceeded" });
  expect(answer(new BetRefused("cell_locked", "x"))).toMatchObject({ status: 409, code: "cell_locked" });
  expect(answer(new BetRefused("insufficient_funds", "x"))).toMatchObject({ status: 409, code: "insufficient_funds" });
});

test("anything that is not a refusal passes through as it is", () => {
  const failure = new Error("disk I/O error");
  expect(refusalAnswer(failure)).toBe(failure);
});
