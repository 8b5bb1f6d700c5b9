import { expect, test } from "bun:test";
import { parseMetrics, sampleValue } from "./samples.ts";
import { counter, counterReading, DEFAULT_METRICS, gaugeReading, metricsResponse, metricsText, startProcessMetrics } from "./registry.ts";

test("a counter is made once per process: asking again by name gives the same one", () => {
  const first = counter({ name: "tap_test_made_once_total", help: "test" });
  const again = counter({ name: "tap_test_made_once_total", help: "test" });
  expect(again).toBe(first);
});

test("a reading gauge shows the latest source's values at scrape time, and only the series it sets", async () => {
  let open = 3;
  gaugeReading<"venue">({ name: "tap_test_reading", help: "test", labelNames: ["venue"] }, (set) => {
    set(open, { venue: "a" });
    set(1, { venue: "b" });
  });
  open = 5;
  expect(sampleValue(await metricsText(), "tap_test_reading", { venue: "a" })).toBe(5);
  gaugeReading<"venue">({ name: "tap_test_reading", help: "test", labelNames: ["venue"] }, (set) => set(7, { venue: "c" }));
  const text = await metricsText();
  expect(sampleValue(text, "tap_test_reading", { venue: "c" })).toBe(7);
  expect(sampleValue(text, "tap_test_reading", { venue: "a" })).toBeUndefined();
});

test("a reading counter is typed counter and shows the running count it reads", async () => {
  let dropped = 2;
  counterReading({ name: "tap_test_dropped_total", help: "test" }, (set) => set(dropped));
  dropped = 9;
  const text = await metricsText();
  expect(text).toContain("# TYPE tap_test_dropped_total counter");
  expect(sampleValue(text, "tap_test_dropped_total")).toBe(9);
});

test("the process's service labels every series; the default metrics kept are there and the V8-only ones are not", async () => {
  // Test files share one process (and so one registry): the first service named there is the one.
  const service = startProcessMetrics("price");
  expect(startProcessMetrics(service === "price" ? "ws" : "price")).toBe(service);
  counter({ name: "tap_test_labelled_total", help: "test" }).inc();
  const response = await metricsResponse();
  expect(response.headers.get("content-type")).toStartWith("text/plain");
  const text = await response.text();
  expect(sampleValue(text, "tap_test_labelled_total", { service })).toBe(1);
  expect(parseMetrics(text).every((sample) => sample.labels.service === service)).toBe(true);
  for (const name of DEFAULT_METRICS) expect(text).toContain(`# TYPE ${name} `);
  expect(text).not.toContain("nodejs_heap_space_size_total_bytes");
  expect(text).not.toContain("nodejs_active_handles");
  expect(text).not.toContain("nodejs_version_info");
});

test("a reading gauge whose reading is awaited shows what it set once done, and nothing while it set nothing", async () => {
  let figures: number | undefined = 4;
  gaugeReading({ name: "tap_test_awaited_reading", help: "test" }, async (set) => {
    await Bun.sleep(1);
    if (figures !== undefined) set(figures);
  });
  expect(sampleValue(await metricsText(), "tap_test_awaited_reading")).toBe(4);
  figures = undefined;
  expect(sampleValue(await metricsText(), "tap_test_awaited_reading")).toBeUndefined();
});
