import { describe, expect, test } from "bun:test";
import { createGroupCommitter } from "./group-commit.ts";

describe("createGroupCommitter", () => {
  test("writes the items submitted in one turn as one batch, resolving each after the write", async () => {
    const batches: number[][] = [];
    const committer = createGroupCommitter<number>((items) => batches.push([...items]));
    const submitted = [1, 2, 3].map((n) => committer.submit(n));
    expect(batches).toEqual([]);
    await Promise.all(submitted);
    expect(batches).toEqual([[1, 2, 3]]);
    await committer.submit(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  test("caps a batch at maxBatch items", async () => {
    const sizes: number[] = [];
    const committer = createGroupCommitter<number>((items) => sizes.push(items.length), { maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => committer.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  test("a failing item fails alone: the rest of its batch is still written", async () => {
    const written: number[] = [];
    const committer = createGroupCommitter<number>((items) => {
      if (items.includes(2)) throw new Error("bad item");
      written.push(...items);
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => committer.submit(n)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(written).toEqual([1, 3]);
  });

  test("flush writes pending items at once", async () => {
    const written: number[] = [];
    const committer = createGroupCommitter<number>((items) => written.push(...items));
    const pending = committer.submit(7);
    expect(committer.pending).toBe(1);
    committer.flush();
    expect(written).toEqual([7]);
    await pending;
  });
});
