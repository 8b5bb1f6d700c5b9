import { expect, test } from "bun:test";
import { parseMetrics, sampleValue } from "./samples.ts";

const text = `# HELP tap_ws_connections Open websockets.
# TYPE tap_ws_connections gauge
tap_ws_connections{service="ws"} 2
tap_ws_messages_out_total{kind="prices",service="ws"} 40
tap_ws_messages_out_total{kind="direct",service="ws"} 3
process_start_time_seconds 1796214875
`;

test("sample lines are read with their labels; comments are skipped", () => {
  expect(parseMetrics(text)).toEqual([
    { name: "tap_ws_connections", labels: { service: "ws" }, value: 2 },
    { name: "tap_ws_messages_out_total", labels: { kind: "prices", service: "ws" }, value: 40 },
    { name: "tap_ws_messages_out_total", labels: { kind: "direct", service: "ws" }, value: 3 },
    { name: "process_start_time_seconds", labels: {}, value: 1796214875 },
  ]);
});

test("a value is found by name and the labels asked for; none is undefined", () => {
  expect(sampleValue(text, "tap_ws_messages_out_total", { kind: "direct" })).toBe(3);
  expect(sampleValue(text, "tap_ws_connections")).toBe(2);
  expect(sampleValue(text, "tap_ws_messages_out_total", { kind: "grid" })).toBeUndefined();
});

test("a line that is not a sample is an error, not a silent skip", () => {
  expect(() => parseMetrics('{"connections":2}')).toThrow(SyntaxError);
});
