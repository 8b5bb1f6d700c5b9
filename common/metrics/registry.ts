/**
 * The process's one Prometheus registry (prom-client) and the ways to put a
 * metric in it. Conventions (docs/metrics.md):
 *
 * - every series carries a `service` label (`api`, `ws`, `price`), set once
 *   per process by `startProcessMetrics`; metric names are `tap_<area>_…`,
 *   counters end in `_total`, units are `_seconds`, `_bytes` or `_cents`;
 * - a metric is made once per process by name (`counter`, `histogram`), so a
 *   module that makes its metrics on every call (a test's tenth server) gets
 *   the same one back;
 * - what the process already knows (open bets, sockets, a venue's state) is
 *   read at scrape time (`gaugeReading`, `counterReading`), never kept twice.
 */
import { Counter, type CounterConfiguration, Gauge, type GaugeConfiguration, Histogram, type HistogramConfiguration, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The services that export metrics; the `service` label's values.
 *
 * ```ts
 * const service: MetricsService = "api";
 * ```
 */
export type MetricsService = "api" | "ws" | "price";

/**
 * The process's registry: every metric of this process is in it.
 *
 * ```ts
 * const text = await metricsRegistry.metrics(); // the Prometheus text format
 * ```
 */
export const metricsRegistry = new Registry();

/**
 * prom-client's default metrics that mean something under Bun, also in a
 * `bun build --compile` binary (test/deploy-binaries.test.ts scrapes one). Left
 * out: V8's heap spaces (Bun runs JavaScriptCore: all zeros), active handles,
 * requests and resources (always 0 under Bun), GC durations (Bun reports no GC
 * entries) and `nodejs_version_info` (the Node version Bun imitates, not Bun's).
 *
 * ```ts
 * DEFAULT_METRICS.includes("process_resident_memory_bytes"); // true
 * ```
 */
export const DEFAULT_METRICS: readonly string[] = [
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
  "nodejs_eventloop_lag_seconds",
  "nodejs_eventloop_lag_min_seconds",
  "nodejs_eventloop_lag_max_seconds",
  "nodejs_eventloop_lag_mean_seconds",
  "nodejs_eventloop_lag_stddev_seconds",
  "nodejs_eventloop_lag_p50_seconds",
  "nodejs_eventloop_lag_p90_seconds",
  "nodejs_eventloop_lag_p99_seconds",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
];

let started: MetricsService | undefined;

/**
 * Names the process's service (the `service` label on every series) and
 * registers the default metrics of `DEFAULT_METRICS`. Once per process: a
 * later call (another server started in the same test process) changes
 * nothing and returns the service named first.
 *
 * ```ts
 * startProcessMetrics("price");
 * ```
 */
export function startProcessMetrics(service: MetricsService): MetricsService {
  if (started !== undefined) return started;
  started = service;
  metricsRegistry.setDefaultLabels({ service });
  // prom-client registers all its defaults at once: into a scratch registry, then only those that work here.
  const scratch = new Registry();
  collectDefaultMetrics({ register: scratch });
  for (const name of DEFAULT_METRICS) {
    const metric = scratch.getSingleMetric(name);
    if (metric) metricsRegistry.registerMetric(metric);
  }
  return service;
}

/**
 * The content type of `GET /metrics` (the Prometheus text format, 0.0.4).
 *
 * ```ts
 * new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
 * ```
 */
export const METRICS_CONTENT_TYPE: string = metricsRegistry.contentType;

/**
 * Every metric of the process in the Prometheus text format.
 *
 * ```ts
 * const text = await metricsText(); // "# HELP tap_bets_accepted_total …"
 * ```
 */
export function metricsText(): Promise<string> {
  return metricsRegistry.metrics();
}

/**
 * The answer to `GET /metrics`: the text, with its content type.
 *
 * ```ts
 * if (path === "/metrics") return metricsResponse();
 * ```
 */
export async function metricsResponse(): Promise<Response> {
  return new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
}

/**
 * The process's counter named `config.name`, made on first use.
 *
 * ```ts
 * const refused = counter({ name: "tap_bets_refused_total", help: "Bets refused, by reason.", labelNames: ["reason"] });
 * refused.inc({ reason: "cell_locked" });
 * ```
 */
export function counter<L extends string = string>(config: Omit<CounterConfiguration<L>, "registers">): Counter<L> {
  const existing = metricsRegistry.getSingleMetric(config.name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ ...config, registers: [metricsRegistry] });
}

/**
 * The process's histogram named `config.name`, made on first use.
 *
 * ```ts
 * const batch = histogram({ name: "tap_bets_commit_batch_size", help: "Bets per transaction.", buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
 * batch.observe(12);
 * ```
 */
export function histogram<L extends string = string>(config: Omit<HistogramConfiguration<L>, "registers">): Histogram<L> {
  const existing = metricsRegistry.getSingleMetric(config.name);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram({ ...config, registers: [metricsRegistry] });
}

/**
 * Sets a metric's values at scrape time: `set(value)` for an unlabelled one,
 * `set(value, labels)` for each labelled series.
 *
 * ```ts
 * const read: Reading<"venue"> = (set) => set(1, { venue: "kraken" });
 * ```
 */
export type Reading<L extends string = string> = (set: (value: number, labels?: Partial<Record<L, string>>) => void) => void;

/**
 * A gauge's reading that must wait for its figures (a database query): the
 * scrape awaits it, and the gauge shows what it set once it resolved.
 *
 * ```ts
 * const read: AwaitedReading = async (set) => set((await figures()).openBets);
 * ```
 */
export type AwaitedReading<L extends string = string> = (set: (value: number, labels?: Partial<Record<L, string>>) => void) => void | Promise<void>;

// The live source of each reading metric: the one given last (one per process in production).
const readings = new Map<string, AwaitedReading<string>>();

/**
 * A gauge whose values are read from live state when Prometheus scrapes, so
 * nothing is kept twice. Each call replaces the reading: the last object to
 * give one (in production the only one) is what the gauge shows. A series not
 * set by the latest reading is dropped. A reading that returns a promise (its
 * figures are in a database) is awaited by the scrape.
 *
 * ```ts
 * gaugeReading({ name: "tap_ws_connections", help: "Open websockets." }, (set) => set(sockets.size));
 * ```
 */
export function gaugeReading<L extends string = string>(config: Omit<GaugeConfiguration<L>, "registers" | "collect">, read: AwaitedReading<L>): void {
  readings.set(config.name, read as AwaitedReading<string>);
  if (metricsRegistry.getSingleMetric(config.name)) return;
  new Gauge<L>({
    ...config,
    registers: [metricsRegistry],
    collect() {
      const values: [number, Partial<Record<L, string>> | undefined][] = [];
      const show = () => {
        this.reset();
        for (const [value, labels] of values) labels ? this.set(labels, value) : this.set(value);
        // prom-client's reset leaves an unlabelled gauge at 0: a reading with no figure shows no series, not a false 0.
        if (values.length === 0 && !config.labelNames?.length) this.remove();
      };
      const reading = readings.get(config.name)?.((value, labels) => void values.push([value, labels]));
      // Set only once the reading is done, so a scrape in between never sees the gauge emptied.
      if (reading instanceof Promise) return reading.then(show);
      show();
    },
  });
}

/**
 * A counter whose totals are read from a running count the process already
 * keeps (a bridge's ticks, a server's dropped clients) when Prometheus scrapes;
 * see `gaugeReading` for which source is read.
 *
 * ```ts
 * counterReading({ name: "tap_ws_slow_consumers_dropped_total", help: "Clients closed for reading too slowly." }, (set) => set(counts.slow));
 * ```
 */
export function counterReading<L extends string = string>(config: Omit<CounterConfiguration<L>, "registers" | "collect">, read: Reading<L>): void {
  readings.set(config.name, read as Reading<string>);
  if (metricsRegistry.getSingleMetric(config.name)) return;
  new Counter<L>({
    ...config,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      readings.get(config.name)?.((value, labels) => (labels ? this.inc(labels as Partial<Record<L, string | number>>, value) : this.inc(value)));
    },
  });
}
