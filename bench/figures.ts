/** A measured figure, optionally held against its target, and the table the bench prints. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target?: BenchTarget;
  /** set from `target` by `judge`; absent for figures without a target */
  verdict?: "PASS" | "MISS";
}

export interface BenchTarget {
  comparison: "<" | ">=";
  value: number;
}

export function judge(figure: BenchFigure): BenchFigure {
  if (!figure.target) return figure;
  const { comparison, value } = figure.target;
  const pass = comparison === "<" ? figure.value < value : figure.value >= value;
  return { ...figure, verdict: pass ? "PASS" : "MISS" };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return value.toFixed(Math.abs(value) >= 10 ? 2 : 3);
}

function formatTarget(target: BenchTarget | undefined): string {
  return target ? `${target.comparison} ${formatValue(target.value)}` : "-";
}

/** Plain-text table: metric, value, target, verdict, unit; notes (unavailable sections) follow. */
export function formatTable(figures: readonly BenchFigure[], notes: readonly string[] = []): string {
  const rows = figures.map((f) => [
    f.name,
    formatValue(f.value),
    formatTarget(f.target),
    f.verdict ?? "",
    f.unit,
  ]);
  const header = ["metric", "value", "target", "", "unit"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line), ...notes.map((n) => `note: ${n}`)].join("\n");
}
