/**
 * Colours the canvas draws with; the same values as the CSS custom properties in styles.css.
 *
 * ```ts
 * ctx.fillStyle = theme.background;
 * ```
 */
export const theme = {
  background: "#0a0d14",
  future: "rgba(56, 76, 120, 0.10)",
  gridLine: "rgba(148, 163, 184, 0.07)",
  gridLineStrong: "rgba(148, 163, 184, 0.16)",
  axisText: "#7d8799",
  text: "#e6e9ef",
  line: "#f7a21b",
  lineGlow: "rgba(247, 162, 27, 0.45)",
  areaTop: "rgba(247, 162, 27, 0.22)",
  areaBottom: "rgba(247, 162, 27, 0)",
  /** The area's top while the price is stale: the stale grey, faint. */
  staleAreaTop: "rgba(107,114,128,0.18)",
  /** The dashed line carrying the current price across the board. */
  priceAcross: "rgba(247, 162, 27, 0.55)",
  /** The text on the price tag: the background's colour on the line's. */
  priceTagText: "#0a0d14",
  stale: "#6b7280",
  nowLine: "rgba(230, 233, 239, 0.45)",
  up: "#22c55e",
  down: "#ef4444",
  bet: "rgba(34, 197, 94, 0.85)",
  betFill: "rgba(34, 197, 94, 0.14)",
  won: "#4ade80",
  wonFill: "rgba(34, 197, 94, 0.42)",
  settled: "rgba(148, 163, 184, 0.35)",
  settledFill: "rgba(100, 116, 139, 0.10)",
  font: '500 11px ui-monospace, "SF Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
  fontStrong: '700 11px ui-monospace, "SF Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
} as const;
