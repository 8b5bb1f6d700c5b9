/**
 * One sample line of the Prometheus text format: its metric name, labels and value.
 *
 * ```ts
 * const sample: MetricSample = { name: "tap_ws_connections", labels: { service: "ws" }, value: 2 };
 * ```
 */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The samples of a `GET /metrics` answer (comments skipped), for tests, benchmarks
 * and scripts that read a service's metrics; label values are left escaped.
 *
 * ```ts
 * parseMetrics('tap_ws_connections{service="ws"} 2\n'); // [{ name: "tap_ws_connections", labels: { service: "ws" }, value: 2 }]
 * ```
 */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new SyntaxError(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map(([, key, value]) => [key, value]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * The value of the first sample named `name` whose labels include `labels`;
 * undefined when there is none.
 *
 * ```ts
 * sampleValue(text, "tap_ws_messages_out_total", { kind: "direct" }); // 12
 * ```
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parseMetrics(text).find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

/**
 * Fetches `url` (a service's `/metrics`) and reads one value from it (see `sampleValue`).
 *
 * ```ts
 * await scrapeValue("http://127.0.0.1:8081/metrics", "tap_ws_connections"); // 2
 * ```
 */
export async function scrapeValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return sampleValue(await response.text(), name, labels);
}
