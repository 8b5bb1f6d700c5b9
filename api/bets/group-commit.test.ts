import { describe, expect, test } from "bun:test";
import { metricsRegistry, metricsText } from "../../common/metrics/registry.ts";
import { createGroupCommitter } from "./group-commit.ts";

describe("createGroupCommitter", () => {
  test("writes the items submitted in one turn as one batch, resolving each with its result after the write", async () => {
    const batches: number[][] = [];
    const committer = createGroupCommitter<number, string>((items) => {
      batches.push([...items]);
      return items.map((n) => `#${n}`);
    });
    const submitted = [1, 2, 3].map((n) => committer.submit(n));
    expect(batches).toEqual([]);
    expect(await Promise.all(submitted)).toEqual(["#1", "#2", "#3"]);
    expect(batches).toEqual([[1, 2, 3]]);
    await committer.submit(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  test("caps a batch at maxBatch items", async () => {
    const sizes: number[] = [];
    const committer = createGroupCommitter<number, void>(
      (items) => {
        sizes.push(items.length);
        return items.map(() => undefined);
      },
      { maxBatch: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => committer.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  test("waits up to maxDelayMs to gather a fuller batch", async () => {
    const sizes: number[] = [];
    const committer = createGroupCommitter<number, void>(
      (items) => {
        sizes.push(items.length);
        return items.map(() => undefined);
      },
      { maxDelayMs: 20 },
    );
    const first = committer.submit(1);
    await Bun.sleep(5);
    await Promise.all([first, committer.submit(2)]);
    expect(sizes).toEqual([2]);
  });

  test("a failing item fails alone: the rest of its batch is still written", async () => {
    const written: number[] = [];
    const committer = createGroupCommitter<number, number>((items) => {
      if (items.includes(2)) throw new Error("bad item");
      written.push(...items);
      return [...items];
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => committer.submit(n)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(written).toEqual([1, 3]);
  });

  test("flush writes pending items at once", async () => {
    const written: number[] = [];
    const committer = createGroupCommitter<number, void>((items) => {
      written.push(...items);
      return items.map(() => undefined);
    });
    const pending = committer.submit(7);
    expect(committer.pending).toBe(1);
    committer.flush();
    expect(written).toEqual([7]);
    await pending;
  });
});

test("each batch's size and write time are observed", async () => {
  const sizes = async () => {
    const metric = metricsRegistry.getSingleMetric("tap_bets_commit_batch_size");
    const values = metric ? (await metric.get()).values : [];
    const of = (suffix: string) => values.find((value) => (value as { metricName?: string }).metricName === `tap_bets_commit_batch_size${suffix}`)?.value ?? 0;
    return { count: of("_count"), sum: of("_sum") };
  };
  const before = await sizes();
  const committer = createGroupCommitter<number, number>((items) => items.map((n) => n));
  await Promise.all([1, 2, 3].map((n) => committer.submit(n)));
  await committer.submit(4);
  expect(await sizes()).toEqual({ count: before.count + 2, sum: before.sum + 4 });
  expect(await metricsText()).toMatch(/^tap_bets_commit_duration_seconds_count(\{[^}]*\})? [1-9]/m);
});
