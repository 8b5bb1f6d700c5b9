import { expect, test } from "bun:test";
import { createCollectionNudge } from "./collection-nudge.ts";

test("a collection is asked for once per `every` opened connections, not before", () => {
  let collections = 0;
  const nudge = createCollectionNudge(3, () => collections++);
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    nudge.opened();
    seen.push(collections);
  }
  expect(seen).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 3, 3]);
});

test("a nonsensical interval is refused", () => {
  for (const every of [0, -1, 1.5, Number.NaN]) expect(() => createCollectionNudge(every, () => {})).toThrow(RangeError);
});
