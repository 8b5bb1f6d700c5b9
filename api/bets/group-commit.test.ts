import { describe, expect, test } from "bun:test";
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
