import { describe, expect, test } from "bun:test";
import { exportDocs } from "./doc-coverage.ts";

describe("exportDocs", () => {
  test("tells a doc comment with an example from one without, and from none", () => {
    const text = [
      "/** Adds.\n *\n * ```ts\n * add(1, 2); // 3\n * ```\n */",
      "export function add(a: number, b: number) { return a + b; }",
      "/** Two. */",
      "export const two = 2, three = 3;",
      "// Not a doc comment.",
      "export interface Shape { sides: number }",
      "const hidden = 1;",
    ].join("\n");
    expect(exportDocs("a.ts", text).map(({ name, documented, example }) => ({ name, documented, example }))).toEqual([
      { name: "add", documented: true, example: true },
      { name: "two", documented: true, example: false },
      { name: "three", documented: true, example: false },
      { name: "Shape", documented: false, example: false },
    ]);
  });

  test("a schema and its Static type of the same name count once; re-exports not at all", () => {
    const text = ['import { Type as t, type Static } from "@sinclair/typebox";', "/** A tick. @example { price: 1 } */", "export const Tick = t.Object({});", "export type Tick = Static<typeof Tick>;", 'export { other } from "./other.ts";'].join("\n");
    expect(exportDocs("b.ts", text).map((doc) => doc.name)).toEqual(["Tick"]);
  });
});
