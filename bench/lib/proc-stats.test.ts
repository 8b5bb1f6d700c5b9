import { expect, test } from "bun:test";
import { readCpuSeconds, readMachineCpu, readMemory, startCpuMeter } from "./proc-stats.ts";

test("reads this process's CPU time and it grows under work", () => {
  const before = readCpuSeconds(process.pid);
  const until = performance.now() + 120;
  let spin = 0;
  while (performance.now() < until) spin++;
  expect(spin).toBeGreaterThan(0);
  expect(readCpuSeconds(process.pid)).toBeGreaterThan(before);
});

test("counts a child's CPU with descendants and not without", async () => {
  const child = Bun.spawn(["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5"], { stdout: "ignore" });
  try {
    await Bun.sleep(600);
    const withChildren = readCpuSeconds(process.pid);
    const alone = readCpuSeconds(process.pid, { descendants: false });
    expect(withChildren).toBeGreaterThan(alone);
  } finally {
    child.kill();
    await child.exited;
  }
});

test("reads resident memory, peak at least current", () => {
  const memory = readMemory(process.pid);
  expect(memory.rssKb).toBeGreaterThan(1000);
  expect(memory.peakKb).toBeGreaterThanOrEqual(memory.rssKb);
  expect(memory.anonKb).toBeGreaterThan(0);
  expect(memory.fileKb).toBeGreaterThan(0);
  // RssShmem is the third part; these two never exceed the whole.
  expect(memory.anonKb + memory.fileKb).toBeLessThanOrEqual(memory.rssKb);
});

test("machine CPU and a meter window", async () => {
  expect(readMachineCpu().total).toBeGreaterThan(0);
  const meter = startCpuMeter({ self: process.pid });
  await Bun.sleep(50);
  const window = meter.stop();
  expect(window.wallSeconds).toBeGreaterThan(0.04);
  expect(window.cpuSeconds.self).toBeGreaterThanOrEqual(0);
});
