/**
 * Formats rows as a Markdown table (readable in a terminal and pasteable into
 * docs). Columns take their order from `columns`; missing cells print "–".
 *
 * ```ts
 * formatTable(["server", "req/s"], [{ server: "ours", "req/s": "61,000" }]);
 * // | server | req/s  |
 * // |--------|--------|
 * // | ours   | 61,000 |
 * ```
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, string>[]): string {
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => (row[column] ?? "–").length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line([...columns]),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map((row) => line(columns.map((column) => row[column] ?? "–"))),
  ].join("\n");
}

/** A number with thousands separators and `digits` decimals; NaN prints "–". */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ours/go as "1.23×" (`digits` decimals), or "–" when either side is missing. */
export function formatRatio(ours: number, go: number, digits = 2): string {
  return Number.isFinite(ours) && Number.isFinite(go) && go !== 0 ? `${(ours / go).toFixed(digits)}×` : "–";
}
