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

describe("createGroupCommitter with an asynchronous writer", () => {
  /** A writer whose writes finish only when the test says, recording how many ran at once. */
  function heldWriter() {
    const writes: { items: number[]; finish: () => void; fail: (error: Error) => void }[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const write = (items: readonly number[]) =>
      new Promise<string[]>((resolve, reject) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        const done = () => running--;
        writes.push({
          items: [...items],
          finish: () => (done(), resolve(items.map((n) => `#${n}`))),
          fail: (error) => (done(), reject(error)),
        });
      });
    return { write, writes, mostAtOnce: () => mostAtOnce };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  test("one batch in flight by default: what arrives meanwhile is the next batch, written once the first is done", async () => {
    const writer = heldWriter();
    const committer = createGroupCommitter<number, string>(writer.write);
    const first = [1, 2].map((n) => committer.submit(n));
    await turn();
    const second = [3, 4, 5].map((n) => committer.submit(n));
    await turn();
    expect(writer.writes.map((write) => write.items)).toEqual([[1, 2]]);
    writer.writes[0]!.finish();
    expect(await Promise.all(first)).toEqual(["#1", "#2"]);
    await turn();
    expect(writer.writes.map((write) => write.items)).toEqual([[1, 2], [3, 4, 5]]);
    writer.writes[1]!.finish();
    expect(await Promise.all(second)).toEqual(["#3", "#4", "#5"]);
    expect(writer.mostAtOnce()).toBe(1);
  });

  test("maxInFlight batches at most at once; the rest gather into the next; flush waits for every batch in flight", async () => {
    const writer = heldWriter();
    const committer = createGroupCommitter<number, string>(writer.write, { maxInFlight: 2 });
    const answers: Promise<string>[] = [];
    answers.push(committer.submit(1));
    await turn();
    answers.push(committer.submit(2));
    await turn();
    answers.push(committer.submit(3), committer.submit(4));
    await turn();
    // Two in flight; 3 and 4 wait together for a free slot.
    expect(writer.writes.map((write) => write.items)).toEqual([[1], [2]]);
    writer.writes[1]!.finish();
    await turn();
    expect(writer.writes.map((write) => write.items)).toEqual([[1], [2], [3, 4]]);
    let flushed = false;
    const flushing = committer.flush().then(() => (flushed = true));
    writer.writes[2]!.finish();
    await turn();
    expect(flushed).toBe(false); // batch [1] is still in flight
    writer.writes[0]!.finish();
    await flushing;
    expect(await Promise.all(answers)).toEqual(["#1", "#2", "#3", "#4"]);
    expect(writer.mostAtOnce()).toBe(2);
  });

  test("a failed asynchronous batch is written again one item at a time, so one bad item fails alone", async () => {
    const writer = heldWriter();
    const committer = createGroupCommitter<number, string>(writer.write);
    const answers = [1, 2, 3].map((n) => committer.submit(n).catch((error: Error) => error.message));
    await turn();
    writer.writes[0]!.fail(new Error("batch refused"));
    for (const expected of [[1], [2], [3]]) {
      while (writer.writes.length < 2 + expected[0]! - 1) await turn();
      const write = writer.writes.at(-1)!;
      expect(write.items).toEqual(expected);
      if (expected[0] === 2) write.fail(new Error("item 2 refused"));
      else write.finish();
    }
    expect(await Promise.all(answers)).toEqual(["#1", "item 2 refused", "#3"]);
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
