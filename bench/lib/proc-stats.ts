import { readdirSync, readFileSync } from "node:fs";

/** Kernel clock ticks per second for /proc times (USER_HZ; 100 on every Linux we run on). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system, seconds) a process has used, summed over all its
 * threads and, by default, its live descendants (a server that forks helpers is
 * charged for them). Children that already exited are not counted.
 *
 * ```ts
 * const before = readCpuSeconds(pid);
 * // … load …
 * const used = readCpuSeconds(pid) - before;
 * ```
 */
export function readCpuSeconds(pid: number, options: { descendants?: boolean } = {}): number {
  const { descendants = true } = options;
  const pids = descendants ? [pid, ...descendantsOf(pid)] : [pid];
  let ticks = 0;
  for (const id of pids) {
    const stat = tryRead(`/proc/${id}/stat`);
    if (stat === undefined) continue;
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Resident memory of one process, in kB: now (`VmRSS`), its peak so far
 * (`VmHWM`), and the part of now that is anonymous (heaps, stacks) and
 * file-backed (the executable's and libraries' pages it touched).
 */
export interface Memory {
  rssKb: number;
  peakKb: number;
  anonKb: number;
  fileKb: number;
}

/** Reads VmRSS, VmHWM, RssAnon and RssFile of `pid` from /proc/PID/status; throws if the process is gone. */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field("VmRSS"), peakKb: field("VmHWM"), anonKb: field("RssAnon"), fileKb: field("RssFile") };
}

/** CPU time of the whole machine (all cores), in seconds. */
export interface MachineCpu {
  /** Everything but idle and iowait. */
  busy: number;
  total: number;
  /**
   * Time in softirq, mostly the kernel's network stack: on loopback, the receive
   * side of every packet; it is charged to no process.
   */
  softirq: number;
}

/** Reads the first line of /proc/stat (user nice system idle iowait irq softirq steal). */
export function readMachineCpu(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS, softirq: (values[6] ?? 0) / CLOCK_TICKS };
}

/**
 * Measures CPU over a window: call `start()` before the load and `stop()` after.
 * `cpuSeconds` are per watched process; `percentOfCore` is CPU / wall × 100
 * (200 % = both cores of a 2-core machine); `machineBusyPercent` is the whole
 * machine's busy share (100 % = every core busy).
 *
 * ```ts
 * const meter = startCpuMeter({ server: pid });
 * await load();
 * const { cpuSeconds, percentOfCore } = meter.stop();
 * ```
 */
export function startCpuMeter<K extends string>(pids: Record<K, number>): { stop(): CpuWindow<K> } {
  const keys = Object.keys(pids) as K[];
  const startedAt = performance.now();
  const machineBefore = readMachineCpu();
  const before = Object.fromEntries(keys.map((key) => [key, readCpuSeconds(pids[key])])) as Record<K, number>;
  return {
    stop() {
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const machineAfter = readMachineCpu();
      const cpuSeconds = {} as Record<K, number>;
      const percentOfCore = {} as Record<K, number>;
      for (const key of keys) {
        cpuSeconds[key] = readCpuSeconds(pids[key]) - before[key];
        percentOfCore[key] = (cpuSeconds[key] / wallSeconds) * 100;
      }
      const machineTotal = machineAfter.total - machineBefore.total;
      const share = (seconds: number) => (machineTotal > 0 ? (seconds / machineTotal) * 100 : Number.NaN);
      return {
        wallSeconds,
        cpuSeconds,
        percentOfCore,
        machineBusyPercent: share(machineAfter.busy - machineBefore.busy),
        softirqSeconds: machineAfter.softirq - machineBefore.softirq,
        softirqPercentOfCore: ((machineAfter.softirq - machineBefore.softirq) / wallSeconds) * 100,
      };
    },
  };
}

export interface CpuWindow<K extends string> {
  wallSeconds: number;
  cpuSeconds: Record<K, number>;
  percentOfCore: Record<K, number>;
  /** Whole machine busy share (100 % = every core busy). */
  machineBusyPercent: number;
  /** Machine-wide softirq time in the window (network stack; charged to no process). */
  softirqSeconds: number;
  softirqPercentOfCore: number;
}

/** The live descendants of `pid` (children, their children, …), from /proc/PID/task/TID/children. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      const children = tryRead(`/proc/${parent}/task/${task}/children`);
      for (const child of children?.trim().split(/\s+/).filter(Boolean) ?? []) {
        found.push(Number(child));
        queue.push(Number(child));
      }
    }
  }
  return found;
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
