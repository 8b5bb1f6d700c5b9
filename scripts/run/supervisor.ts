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
  readonly children: readonly Child[];
  /** True once every health URL answers 200 (checked in the order of the specs); false if the services began stopping first. */
  readonly ready: Promise<boolean>;
  /** The exit status once every child is gone: 0 after `stop`, 1 when a child died on its own or never got healthy. */
  readonly done: Promise<number>;
  /** Sends SIGTERM to every child, then SIGKILL to those still running after `stopTimeoutMs`. Idempotent. */
  stop(reason: string): void;
  /** SIGKILL to every child now (a second Ctrl-C). */
  kill(): void;
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

  const children = specs.map((spec) => {
    const child = spawnChild({ name: spec.name, cmd: spec.cmd, cwd, env: spec.env, onLine });
    log("info", `started ${spec.name}`, { pid: child.pid });
    return child;
  });

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping every service", { reason });
    for (const child of children) child.kill("SIGTERM");
    stopRequested.resolve();
  };

  for (const child of children) {
    void child.exited.then((status) => {
      if (stopping) {
        log("info", `${child.name} stopped`, exitFields(status));
        return;
      }
      failed = true;
      const hint = status.code === 78 ? "bad configuration: see its log above" : undefined;
      log("error", `${child.name} exited unexpectedly`, { ...exitFields(status), ...(hint ? { hint } : {}) });
      stop(`${child.name} exited`);
    });
  }

  const done = stopRequested.promise.then(async () => {
    const killer = setTimeout(() => {
      for (const child of children.filter((c) => c.running())) {
        log("warn", `${child.name} did not stop within ${stopTimeoutMs} ms: SIGKILL`, { pid: child.pid });
        child.kill("SIGKILL");
      }
    }, stopTimeoutMs);
    await Promise.all(children.map((child) => child.exited));
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

  return {
    children,
    ready,
    done,
    stop,
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
