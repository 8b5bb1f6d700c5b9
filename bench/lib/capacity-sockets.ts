/**
 * Bytes a process sent on its TCP sockets over a window, from the kernel's own
 * per-socket counter (`tcp_info.bytes_sent`, as `ss -ti` prints it), the
 * sockets tied to processes by inode through /proc/PID/fd. /proc/PID/io's
 * `wchar` would be simpler but misses send()/sendmsg() (what nginx, Bun's
 * sockets and redis mostly use) and counts log-file writes.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { descendantsOf } from "./proc-stats.ts";

/** bytes_sent of every established TCP socket on the machine, by inode. */
export function readSocketBytes(): Map<number, number> {
  const out = Bun.spawnSync(["ss", "-tinHe", "state", "established"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  const bytes = new Map<number, number>();
  let inode = 0;
  for (const line of out.split("\n")) {
    const ino = /\bino:(\d+)/.exec(line);
    if (ino) {
      inode = Number(ino[1]);
      continue;
    }
    const sent = /\bbytes_sent:(\d+)/.exec(line);
    if (sent && inode > 0) bytes.set(inode, Number(sent[1]));
    else if (inode > 0 && line.startsWith("\t")) bytes.set(inode, bytes.get(inode) ?? 0);
  }
  return bytes;
}

/** The socket inodes a process and its live descendants hold open. */
export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const id of [pid, ...descendantsOf(pid)]) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${id}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${id}/fd/${fd}`);
        if (target.startsWith("socket:[")) inodes.add(Number(target.slice(8, -1)));
      } catch {
        // closed since the listing
      }
    }
  }
  return inodes;
}

/** What each watched process sent over the window. */
export interface SentWindow<K extends string> {
  bytes: Record<K, number>;
  /** Sockets open at the start and gone at the end: what they sent after the start is not counted. */
  closedSockets: Record<K, number>;
}

/**
 * Call before the load; `stop()` after it. Sockets opened during the window
 * count from zero; sockets closed during it are counted in `closedSockets`
 * (their last bytes are missed), so the figure is a floor.
 *
 * ```ts
 * const meter = startSentMeter({ ws: wsPid });
 * await load();
 * const { bytes } = meter.stop();
 * ```
 */
export function startSentMeter<K extends string>(pids: Record<K, number>): { stop(): SentWindow<K> } {
  const keys = Object.keys(pids) as K[];
  const ownedBefore = Object.fromEntries(keys.map((key) => [key, socketInodes(pids[key])])) as Record<K, Set<number>>;
  const before = readSocketBytes();
  return {
    stop() {
      const after = readSocketBytes();
      const bytes = {} as Record<K, number>;
      const closedSockets = {} as Record<K, number>;
      for (const key of keys) {
        const owned = socketInodes(pids[key]);
        let sum = 0;
        for (const inode of owned) {
          const end = after.get(inode);
          if (end !== undefined) sum += end - (before.get(inode) ?? 0);
        }
        bytes[key] = sum;
        closedSockets[key] = [...ownedBefore[key]].filter((inode) => before.has(inode) && !after.has(inode)).length;
      }
      return { bytes, closedSockets };
    },
  };
}
