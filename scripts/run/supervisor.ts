import { type Child, type ExitStatus, spawnChild } from "./child.ts";

/** The supervisor's own log: one record per call, printed like the services' lines. */
export type RunLog = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

/** One service to run. */
export interface ServiceSpec {
  name: string;
  cmd: string[];
  env: Record<string, string>;
  /** Answers 200 once the service is up; a service without one counts as up once started. */
  healthUrl?: string;
}

export interface SuperviseOptions {
  cwd: string;
  log: RunLog;
  onLine(name: string, line: string): void;
  /** How long the children get after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** How long every health URL gets to answer 200. */
  readyTimeoutMs?: number;
}

export interface Supervision {
  /** The children running now (a replaced one gives way to its successor). */
  readonly children: readonly Child[];
  /** True once every health URL answers 200 (checked in the order of the specs); false if the services began stopping first. */
  readonly ready: Promise<boolean>;
  /** The exit status once every child is gone: 0 after `stop`, 1 when a child died on its own or never got healthy. */
  readonly done: Promise<number>;
  /** Sends SIGTERM to every child, then SIGKILL to those still running after `stopTimeoutMs`. Idempotent. */
  stop(reason: string): void;
  /** SIGKILL to every child now (a second Ctrl-C). */
  kill(): void;
  /** True once `stop` or `kill` was called, or a child died on its own. */
  stopping(): boolean;
  /**
   * Restarts the service named `spec.name` as `spec` (another environment, say)
   * and leaves the others alone: SIGTERM to the running one, SIGKILL after
   * `stopTimeoutMs`, and the new one is started once the old one has exited (so
   * it can take the same port). That exit is not a failure. Resolves with the
   * new child, or undefined when the services began stopping meanwhile.
   */
  replace(spec: ServiceSpec): Promise<Child | undefined>;
}

/**
 * Starts every service as its own process and keeps them as one: when one
 * exits on its own the others are stopped too, since a half-running system
 * only misleads.
 *
 * ```ts
 * const run = superviseServices([{ name: "api", cmd: ["bun", "api/main.ts"], env, healthUrl: "http://127.0.0.1:8080/healthz" }], { cwd, log, onLine });
 * process.on("SIGINT", () => run.stop("SIGINT"));
 * if (await run.ready) console.log("up");
 * process.exit(await run.done);
 * ```
 */
export function superviseServices(specs: readonly ServiceSpec[], options: SuperviseOptions): Supervision {
  const { cwd, log, onLine, stopTimeoutMs = 12_000, readyTimeoutMs = 30_000 } = options;
  let stopping = false;
  let failed = false;
  const stopRequested = Promise.withResolvers<void>();

  /** Children stopped on purpose by `replace`: their exit is expected. */
  const replaced = new Set<Child>();

  const watch = (child: Child) => {
    void child.exited.then((status) => {
      if (replaced.has(child)) {
        log("info", `${child.name} stopped to be replaced`, exitFields(status));
        return;
      }
      if (stopping) {
        log("info", `${child.name} stopped`, exitFields(status));
        return;
      }
      failed = true;
      const hint = status.code === 78 ? "bad configuration: see its log above" : undefined;
      log("error", `${child.name} exited unexpectedly`, { ...exitFields(status), ...(hint ? { hint } : {}) });
      stop(`${child.name} exited`);
    });
  };
  const start = (spec: ServiceSpec) => {
    const child = spawnChild({ name: spec.name, cmd: spec.cmd, cwd, env: spec.env, onLine });
    log("info", `started ${spec.name}`, { pid: child.pid });
    watch(child);
    return child;
  };
  const children = specs.map(start);

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping every service", { reason });
    for (const child of children) child.kill("SIGTERM");
    stopRequested.resolve();
  };

  const done = stopRequested.promise.then(async () => {
    const killer = setTimeout(() => {
      for (const child of children.filter((c) => c.running())) {
        log("warn", `${child.name} did not stop within ${stopTimeoutMs} ms: SIGKILL`, { pid: child.pid });
        child.kill("SIGKILL");
      }
    }, stopTimeoutMs);
    // A child being replaced is in `replaced` and no longer in `children`; wait for it too.
    await Promise.all([...children, ...replaced].map((child) => child.exited));
    clearTimeout(killer);
    return failed ? 1 : 0;
  });

  const ready = (async () => {
    const deadline = Date.now() + readyTimeoutMs;
    const pending = specs.filter((spec) => spec.healthUrl !== undefined);
    while (pending.length > 0) {
      // In the order given, so a proxy listed last is asked only once what it proxies answers.
      for (const spec of [...pending]) {
        if (stopping) return false;
        if (!spec.healthUrl || !(await answersOk(spec.healthUrl))) break;
        log("info", `${spec.name} is healthy`, { url: spec.healthUrl });
        pending.splice(pending.indexOf(spec), 1);
      }
      if (stopping) return false;
      if (pending.length > 0 && Date.now() > deadline) {
        failed = true;
        log("error", `not healthy after ${readyTimeoutMs} ms`, { services: pending.map((spec) => `${spec.name} ${spec.healthUrl}`).join(", ") });
        stop("services not healthy");
        return false;
      }
      if (pending.length > 0) await Bun.sleep(100);
    }
    return !stopping;
  })();

  const replace = async (spec: ServiceSpec): Promise<Child | undefined> => {
    const at = children.findIndex((child) => child.name === spec.name);
    const old = children[at];
    if (!old) throw new RangeError(`no service named ${spec.name} to replace`);
    if (stopping) return undefined;
    replaced.add(old);
    log("info", `restarting ${spec.name}`, { pid: old.pid });
    old.kill("SIGTERM");
    const killer = setTimeout(() => {
      log("warn", `${old.name} did not stop within ${stopTimeoutMs} ms: SIGKILL`, { pid: old.pid });
      old.kill("SIGKILL");
    }, stopTimeoutMs);
    await old.exited;
    clearTimeout(killer);
    replaced.delete(old);
    if (stopping) {
      children.splice(at, 1);
      return undefined;
    }
    const next = start(spec);
    children[at] = next;
    return next;
  };

  return {
    children,
    ready,
    done,
    stop,
    stopping: () => stopping,
    replace,
    kill() {
      stop("forced");
      for (const child of children) {
        if (child.running()) log("warn", `killing ${child.name}`, { pid: child.pid });
        child.kill("SIGKILL");
      }
    },
  };
}

function exitFields({ code, signal }: ExitStatus): Record<string, unknown> {
  return signal ? { signal } : { code };
}

async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
