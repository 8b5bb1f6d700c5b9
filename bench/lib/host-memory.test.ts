import { expect, test } from "bun:test";
import { parseMeminfo, parseSsMemory, parseTcpSockstat } from "./host-memory.ts";

test("sockstat's TCP line", () => {
  const text = "sockets: used 27\nTCP: inuse 11 orphan 1 tw 2 alloc 14 mem 209\nUDP: inuse 0 mem 0\n";
  expect(parseTcpSockstat(text)).toEqual({ inuse: 11, orphan: 1, timeWait: 2, alloc: 14, memPages: 209 });
  expect(() => parseTcpSockstat("UDP: inuse 0 mem 0")).toThrow(TypeError);
});

test("meminfo's total and available", () => {
  expect(parseMeminfo("MemTotal:       24634068 kB\nMemFree:        1 kB\nMemAvailable:   23000000 kB\n")).toEqual({ totalKb: 24634068, availableKb: 23000000 });
});

test("ss -tnmH: ports and queue bytes per socket", () => {
  const text = [
    "ESTAB 0      0      127.0.0.1:4369  127.0.0.1:40192",
    "\t skmem:(r0,rb131072,t0,tb3939840,f0,w0,o0,bl0,d0)",
    "ESTAB 1200   0      127.0.0.2:40000 127.0.0.1:8081 ",
    "\t skmem:(r2304,rb131072,t0,tb46080,f1792,w4096,o0,bl0,d0)",
    "",
  ].join("\n");
  expect(parseSsMemory(text)).toEqual([
    { local: 4369, peer: 40192, bytes: 0 },
    { local: 40000, peer: 8081, bytes: 6400 },
  ]);
});
