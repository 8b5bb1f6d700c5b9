import { expect, test } from "bun:test";
import { PriceHistoryQuery } from "../../common/contracts/price-history.ts";
import { BEARER_SCHEME, describeRoute, ERROR_CODES_KEY, queryParameters } from "./operation.ts";

test("a route's description names the bearer scheme only behind the token, and carries its error codes", () => {
  const open = describeRoute({ summary: "The latest price", tags: ["market"] });
  expect(open).toEqual({ summary: "The latest price", tags: ["market"] });
  const guarded = describeRoute({ summary: "Set my nickname", tags: ["players"], bearer: true, errors: { 409: ["nickname_taken"] } });
  expect(guarded.security).toEqual([{ [BEARER_SCHEME]: [] }]);
  expect((guarded as Record<string, unknown>)[ERROR_CODES_KEY]).toEqual({ 409: ["nickname_taken"] });
});

test("query parameters come from the contract's schema: one per property, optional ones not required, descriptions lifted out", () => {
  const parameters = queryParameters(PriceHistoryQuery);
  expect(parameters.map((parameter) => parameter.name)).toEqual(Object.keys(PriceHistoryQuery.properties));
  const from = parameters.find((parameter) => parameter.name === "from")!;
  expect(from).toEqual({ name: "from", in: "query", required: false, description: "first tick time, ms since the epoch (inclusive)", schema: { type: "integer", minimum: 0 } });
  expect(parameters.find((parameter) => parameter.name === "limit")!.schema).toEqual({ type: "integer", minimum: 1, maximum: 5000 });
});
