/**
 * Which exported symbols have a doc comment, and which of those show a short
 * example (a fenced code block or `@example`). The style guide asks both of every
 * public symbol; this says where the code stands.
 *
 *   node_modules/.bin/bun scripts/doc-coverage.ts [folder or file ...] [--missing] [--json]
 *
 * Without paths it reads common/, api/, ws/, price/ and web/src/ (test files,
 * `_private.ts` helpers and `testdata` excluded). `--missing` lists each symbol without a doc comment or
 * without an example; `--json` prints the counts as JSON.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import ts from "typescript";

/** One exported symbol and what its doc comment holds. */
export interface ExportDoc {
  file: string;
  name: string;
  line: number;
  documented: boolean;
  example: boolean;
}

/**
 * The exported declarations of one TypeScript source and whether each has a
 * doc comment (`/** … *\/` right above it) with an example in it. Re-exports
 * (`export { x } from`) are left out: their docs live where they are declared,
 * and so is a type named like a value of the same file (a TypeBox schema's
 * `Static<>` type), documented with its schema.
 *
 * ```ts
 * exportDocs("a.ts", "/** Adds. *\/\nexport const add = (a: number, b: number) => a + b;");
 * // [{ file: "a.ts", name: "add", line: 2, documented: true, example: false }]
 * ```
 */
export function exportDocs(file: string, text: string): ExportDoc[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ExportDoc[] = [];
  const typeNames = new Set<ExportDoc>();
  const add = (node: ts.Node, name: string) => {
    const docs = ts.getJSDocCommentsAndTags(node).filter((doc): doc is ts.JSDoc => ts.isJSDoc(doc));
    const raw = docs.map((doc) => text.slice(doc.pos, doc.end)).join("\n");
    found.push({
      file,
      name,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      documented: raw.replace(/[/*\s]/g, "").length > 0,
      example: /```|@example/.test(raw),
    });
    if (ts.isTypeAliasDeclaration(node) || ts.isInterfaceDeclaration(node)) typeNames.add(found.at(-1)!);
  };
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) add(statement, declaration.name.getText(source));
    } else if (
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isEnumDeclaration(statement)
    ) {
      add(statement, statement.name?.getText(source) ?? "default");
    }
  }
  // A TypeBox schema and its `Static<>` type share a name: one symbol, documented once (on the schema).
  const values = new Set(found.filter((doc) => !typeNames.has(doc)).map((doc) => doc.name));
  return found.filter((doc) => !(typeNames.has(doc) && values.has(doc.name)));
}

/** The `.ts` sources under `path` (a file or a folder), without tests, declaration files, `_private.ts` helpers and test data. */
export function sourcesUnder(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const full = join(path, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "testdata" ? [] : sourcesUnder(full);
    // `_name.ts` is a folder's private helper (the standard library's habit), not a public module.
    const isPublicSource = entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts") && !entry.name.startsWith("_");
    return isPublicSource ? [full] : [];
  });
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { missing: { type: "boolean" }, json: { type: "boolean" } } });
  const root = join(import.meta.dir, "..");
  const paths = positionals.length > 0 ? positionals : ["common", "api", "ws", "price", "web/src"].map((folder) => join(root, folder));
  const byFolder = new Map<string, { symbols: number; documented: number; example: number }>();
  const missing: ExportDoc[] = [];
  for (const path of paths) {
    for (const file of sourcesUnder(path)) {
      const name = relative(root, file);
      const folder = name.split("/")[0]!;
      const row = byFolder.get(folder) ?? { symbols: 0, documented: 0, example: 0 };
      byFolder.set(folder, row);
      for (const doc of exportDocs(name, readFileSync(file, "utf8"))) {
        row.symbols++;
        if (doc.documented) row.documented++;
        if (doc.example) row.example++;
        if (!doc.documented || !doc.example) missing.push(doc);
      }
    }
  }
  if (values.json) console.log(JSON.stringify(Object.fromEntries(byFolder)));
  else {
    const percent = (part: number, whole: number) => `${whole === 0 ? 100 : Math.round((part / whole) * 100)}%`;
    for (const [folder, row] of byFolder) {
      console.log(`${folder.padEnd(8)} ${String(row.symbols).padStart(4)} exported, ${percent(row.documented, row.symbols).padStart(4)} with a doc comment, ${percent(row.example, row.symbols).padStart(4)} with an example`);
    }
  }
  if (values.missing) for (const doc of missing) console.log(`${doc.file}:${doc.line} ${doc.name}${doc.documented ? " (no example)" : " (no doc comment)"}`);
}
