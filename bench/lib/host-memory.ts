import { readFileSync } from "node:fs";
import { descendantsOf, readMemory } from "./proc-stats.ts";

/** The kernel's page size for /proc/net/sockstat's `mem` (4 KiB on every machine we run on). */
export const PAGE_BYTES = 4096;

/** The TCP line of /proc/net/sockstat: sockets, and the pages all TCP buffers hold (send and receive queues, every socket). */
export interface TcpSockstat {
  inuse: number;
  orphan: number;
  timeWait: number;
  alloc: number;
  /** Pages of 4 KiB charged to TCP socket buffers, machine-wide. */
  memPages: number;
}

/** Parses the `TCP:` line of /proc/net/sockstat; throws when there is none. */
export function parseTcpSockstat(text: string): TcpSockstat {
  const line = text.split("\n").find((l) => l.startsWith("TCP:"));
  if (!line) throw new TypeError("no TCP line in sockstat");
  const field = (name: string) => Number(new RegExp(`\\b${name} (\\d+)`).exec(line)?.[1] ?? Number.NaN);
  return { inuse: field("inuse"), orphan: field("orphan"), timeWait: field("tw"), alloc: field("alloc"), memPages: field("mem") };
}

export function readTcpSockstat(): TcpSockstat {
  return parseTcpSockstat(readFileSync("/proc/net/sockstat", "utf8"));
}

/** /proc/meminfo's MemTotal and MemAvailable, in kB. */
export function parseMeminfo(text: string): { totalKb: number; availableKb: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { totalKb: field("MemTotal"), availableKb: field("MemAvailable") };
}

export function readMeminfo(): { totalKb: number; availableKb: number } {
  return parseMeminfo(readFileSync("/proc/meminfo", "utf8"));
}

/** VmRSS of `pid` and its live descendants (nginx's master and workers), in kB; 0 for a process that is gone. */
export function treeRssKb(pid: number): number {
  let kb = 0;
  for (const id of [pid, ...descendantsOf(pid)]) {
    try {
      kb += readMemory(id).rssKb;
    } catch {
      // Exited between the listing and the read.
    }
  }
  return kb;
}

/** Bytes in one socket's queues, from `ss -m`: receive queue (`r`) and send queue (`w`, queued and not yet acknowledged). */
export interface SocketMemory {
  local: number;
  peer: number;
  bytes: number;
}

/**
 * Parses `ss -tnmH` (TCP, numeric, with `skmem`, no header): each socket's
 * local and peer port and the bytes its receive and send queues hold
 * (`rmem_alloc` + `wmem_queued`).
 *
 * ```ts
 * parseSsMemory("ESTAB 0 0 127.0.0.1:8081 127.0.0.2:40000\n\t skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0)");
 * // [{ local: 8081, peer: 40000, bytes: 0 }]
 * ```
 */
export function parseSsMemory(text: string): SocketMemory[] {
  const sockets: SocketMemory[] = [];
  let current: { local: number; peer: number } | undefined;
  for (const line of text.split("\n")) {
    const addresses = /^\S+\s+\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)/.exec(line);
    if (addresses) current = { local: Number(addresses[2]), peer: Number(addresses[4]) };
    const skmem = /skmem:\(r(\d+),rb\d+,t\d+,tb\d+,f\d+,w(\d+)/.exec(line);
    if (skmem && current) {
      sockets.push({ ...current, bytes: Number(skmem[1]) + Number(skmem[2]) });
      current = undefined;
    }
  }
  return sockets;
}

/** Every TCP socket's queue memory now (`ss -tnmH`); empty when `ss` is missing. */
export function readSocketMemory(): SocketMemory[] {
  const ss = Bun.spawnSync(["ss", "-tnmH"], { stdout: "pipe", stderr: "ignore" });
  return ss.exitCode === 0 ? parseSsMemory(ss.stdout.toString()) : [];
}
