import { readFileSync } from "node:fs";

/**
 * Checks that this machine can hold `clients` websocket connections on
 * 127.0.0.1 with the clients split over `processes` processes: the open-files
 * limit (inherited by the server and the client processes) and the ephemeral
 * port range. Returns the problems found, each with the fix; empty means fine.
 *
 * ```ts
 * const problems = checkConnectionLimits(5000, 2);
 * if (problems.length) throw new Error(problems.join("\n"));
 * ```
 */
export function checkConnectionLimits(clients: number, processes: number): string[] {
  const problems: string[] = [];
  const softLimit = openFilesLimit();
  // The server holds every connection; each client process its share; plus headroom for the runtime.
  const needed = Math.max(clients, Math.ceil(clients / processes)) + 256;
  if (softLimit < needed) {
    problems.push(`open-files limit is ${softLimit}, need ≥ ${needed} for ${clients} clients: run \`ulimit -n ${Math.max(needed, 20_000)}\` first`);
  }
  const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  const ports = (high ?? 0) - (low ?? 0) + 1;
  if (ports < clients + 1000) {
    problems.push(`only ${ports} ephemeral ports (net.ipv4.ip_local_port_range ${low} ${high}) for ${clients} clients`);
  }
  return problems;
}

/** The soft "Max open files" limit of this process (inherited by what it spawns). */
export function openFilesLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((text) => text.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
}
