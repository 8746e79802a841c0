/**
 * Walk-forward tuning (`npm run backtest -- --sweep grid.json`): every configuration of the grid
 * replays the tune window; the best `top` by the metric there replay the later, purged score
 * window; the table ranks those by the score window's metric, so what it puts first is what a
 * choice made on the tune window earned afterwards. Replays run on worker threads (sweep-pool.ts);
 * this thread only hands out the work, merges and ranks.
 */
import { bundledProductRules } from "#coinbase/product-rules.js";
import { cycleTimesFor } from "./engine.js";
import { buyAndHold, performanceOf } from "./metrics.js";
import { LLM_VETO_NOTE } from "./run.js";
import { configurationAt, configurationLabel, type SweepGrid } from "./sweep-grid.js";
import { calmarOf, metricOf, type RunSummary, type SweepMarket, type SweepMetric } from "./sweep-job.js";
import { SweepPool } from "./sweep-pool.js";
import { sweepSettingsFor } from "./sweep-settings.js";
import { isoOf, type SweepWindows, type Window, windowNotes } from "./sweep-windows.js";

export interface SweepOptions {
  grid: SweepGrid;
  windows: SweepWindows;
  metric: SweepMetric;
  /** configurations carried from the tune window to the score window */
  top: number;
  workers: number;
  onProgress?(window: "tune" | "score", done: number, total: number): void;
}

export interface SweepRow {
  configuration: number;
  /** the grid's values, KEY=value ... */
  label: string;
  /** 1 = best on the tune window */
  tuneRank: number;
  /** 1 = best on the score window among the rows */
  scoreRank: number;
  tune: RunSummary;
  score: RunSummary;
}

/** Equal-weight buy-and-hold on a window, for reference. */
export interface HoldFigures {
  totalReturn: number;
  sharpe: number;
  sortino: number;
  calmar: number;
  maxDrawdown: number;
}

export interface SweepResult {
  configurations: number;
  metric: SweepMetric;
  top: number;
  workers: number;
  windows: SweepWindows;
  /** the top configurations of the tune window, ranked by the score window's metric */
  rows: SweepRow[];
  /** every configuration on the tune window, in grid order */
  tune: RunSummary[];
  buyAndHold: { tune: HoldFigures; score: HoldFigures };
  notes: string[];
  timing: {
    /** starting the workers (loading their code) */
    workersStartMs: number;
    tuneMs: number;
    scoreMs: number;
    totalMs: number;
    /** configurations (tune runs) per second of the tune phase */
    configurationsPerSecond: number;
  };
}

/** Indexes sorted best first by `value`; equal values keep index order (deterministic). */
export function rankBy(count: number, value: (i: number) => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return order.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return va === vb ? a - b : vb > va ? 1 : -1;
  });
}

export async function runSweep(market: SweepMarket, options: SweepOptions): Promise<SweepResult> {
  const { grid, windows, metric } = options;
  if (!(Number.isInteger(options.top) && options.top >= 1))
    throw new RangeError(`--top must be a whole number >= 1, got ${options.top}`);
  const t0 = performance.now();
  const pool = await SweepPool.start(
    { market, grid, windows: { tune: windows.tune, score: windows.score } },
    // no more workers than configurations: one with nothing to run would only cost its start
    Math.min(options.workers, grid.count),
  );
  try {
    const all = Array.from({ length: grid.count }, (_, i) => i);
    const t1 = performance.now();
    // buy-and-hold reads only candles: this thread computes it while the workers replay
    const tuneRuns = pool.run("tune", all, (done, total) => options.onProgress?.("tune", done, total));
    const hold = {
      tune: holdFigures(market, grid, windows.tune),
      score: holdFigures(market, grid, windows.score),
    };
    const tune = await tuneRuns;
    const tuneMs = performance.now() - t1;
    const tuneOrder = rankBy(grid.count, (i) => metricOf(tune[i]!, metric));
    const chosen = tuneOrder.slice(0, Math.min(options.top, grid.count));
    const t2 = performance.now();
    const score = await pool.run("score", chosen, (done, total) =>
      options.onProgress?.("score", done, total),
    );
    const scoreMs = performance.now() - t2;
    const scoreOrder = rankBy(chosen.length, (k) => metricOf(score[k]!, metric));
    const rows = scoreOrder.map((k, position) => ({
      configuration: chosen[k]!,
      label: configurationLabel(grid, chosen[k]!),
      tuneRank: k + 1,
      scoreRank: position + 1,
      tune: tune[chosen[k]!]!,
      score: score[k]!,
    }));
    return {
      configurations: grid.count,
      metric,
      top: chosen.length,
      workers: pool.size,
      windows,
      rows,
      tune,
      buyAndHold: hold,
      notes: [...windowNotes(windows), ...idleRowNotes(rows), LLM_VETO_NOTE],
      timing: {
        workersStartMs: pool.timing.startMs,
        tuneMs,
        scoreMs,
        totalMs: performance.now() - t0,
        configurationsPerSecond: grid.count / (tuneMs / 1000),
      },
    };
  } finally {
    await pool.close();
  }
}

/** A row that traded nothing in the score window ranks on zeros: say so, and what to change. */
export function idleRowNotes(rows: readonly Pick<SweepRow, "score">[]): string[] {
  const idle = rows.filter((row) => row.score.trades === 0).length;
  if (idle === 0) return [];
  return [
    `${idle} of the top ${rows.length} made no trade in the score window: their score figures are zeros, which say nothing of the settings; let more signals through (BRIDGE_MIN_CONFIDENCE, SIGNAL_BUY_THRESHOLD) or widen the score window.`,
  ];
}

function holdFigures(market: SweepMarket, grid: SweepGrid, window: Window): HoldFigures {
  const base = sweepSettingsFor(grid.base);
  const cycles = cycleTimesFor({ ...window, intervalSeconds: market.intervalSeconds });
  const hold = buyAndHold(
    market.symbols,
    cycles,
    market.intervalSeconds,
    base.startingCashUsd,
    base.fill,
    bundledProductRules,
  );
  const p = performanceOf(
    cycles,
    hold.equity,
    hold.exposure,
    base.startingCashUsd,
    market.intervalSeconds,
    hold.trades,
  );
  return {
    totalReturn: p.totalReturn,
    sharpe: p.sharpe,
    sortino: p.sortino,
    calmar: calmarOf(p.annualisedReturn, p.maxDrawdown),
    maxDrawdown: p.maxDrawdown,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ratio = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

const METRIC_NAMES: Record<SweepMetric, string> = {
  sharpe: "Sharpe",
  sortino: "Sortino",
  return: "total return",
  calmar: "Calmar (annualised return / max drawdown)",
};

/** The sweep's text output: windows, how the table is ranked, the table, buy-and-hold, speed, notes. */
export function formatSweep(r: SweepResult, gridName = "grid.json"): string {
  const w = r.windows;
  const metric = METRIC_NAMES[r.metric];
  const lines = [
    `Walk-forward sweep of ${gridName}: ${r.configurations} configurations on ${r.workers} worker thread${r.workers > 1 ? "s" : ""}`,
    `  tune window   ${isoOf(w.tune.fromSec)} → ${isoOf(w.tune.toSec)}: every configuration`,
    `  score window  ${isoOf(w.score.fromSec)} → ${isoOf(w.score.toSec)}: the top ${r.top} by tune-window ${metric}`,
    `  purge between them: ${w.purgeExplanation}`,
    "",
    `Ranked by SCORE-window ${metric} (column "rank") among the top ${r.top} configurations by TUNE-window ${metric} (column "tune#"):`,
    "",
  ];
  const group = ["return", "Sharpe", "Sortino", "max DD", "trades", "closing", "win"];
  const header = ["rank", "tune#", "|", ...group, "|", ...group, "|", "configuration"];
  const figures = (s: RunSummary) => [
    pct(s.totalReturn),
    ratio(s.sharpe),
    ratio(s.sortino),
    pct(s.maxDrawdown),
    String(s.trades),
    String(s.closingTrades),
    pct(s.winRate),
  ];
  const hold = (h: HoldFigures) => [
    pct(h.totalReturn),
    ratio(h.sharpe),
    ratio(h.sortino),
    pct(h.maxDrawdown),
    "",
    "",
    "",
  ];
  const body = r.rows.map((row) => [
    String(row.scoreRank),
    String(row.tuneRank),
    "|",
    ...figures(row.tune),
    "|",
    ...figures(row.score),
    "|",
    row.label,
  ]);
  body.push([
    "-",
    "-",
    "|",
    ...hold(r.buyAndHold.tune),
    "|",
    ...hold(r.buyAndHold.score),
    "|",
    "equal-weight buy-and-hold",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((text, c) => (c === cells.length - 1 ? text : text.padStart(widths[c]!)))
      .join(" ")
      .trimEnd();
  // the window each group of columns belongs to, over its first column
  const groupStart = (c: number) => widths.slice(0, c).reduce((sum, width) => sum + width + 1, 0);
  const over = " ".repeat(groupStart(header.length - 1)).split("");
  const label = (text: string, c: number) => over.splice(groupStart(c), text.length, ...text);
  label("TUNE window", 3);
  label("SCORE window", 3 + group.length + 1);
  lines.push(over.join("").trimEnd(), line(header), ...body.map(line));
  const t = r.timing;
  lines.push(
    "",
    `Speed: ${r.configurations} configurations on the tune window in ${(t.tuneMs / 1000).toFixed(2)} s = ${t.configurationsPerSecond.toFixed(1)} configurations/s; top ${r.top} on the score window in ${(t.scoreMs / 1000).toFixed(2)} s; workers started in ${(t.workersStartMs / 1000).toFixed(2)} s; sweep ${(t.totalMs / 1000).toFixed(2)} s.`,
    "",
    ...r.notes.map((n) => `Note: ${n}`),
  );
  return lines.join("\n");
}

/** The result as JSON (non-finite figures as strings: JSON has no Infinity). */
export function sweepJson(r: SweepResult, grid: SweepGrid, extra: Record<string, unknown> = {}): string {
  const w = r.windows;
  return `${JSON.stringify(
    {
      configurations: r.configurations,
      metric: r.metric,
      rankedBy: `score-window ${r.metric} among the top ${r.top} configurations by tune-window ${r.metric}`,
      workers: r.workers,
      grid: Object.fromEntries(grid.keys.map((k, i) => [k, grid.values[i]])),
      base: grid.base,
      windows: {
        tune: { from: isoOf(w.tune.fromSec), to: isoOf(w.tune.toSec) },
        score: { from: isoOf(w.score.fromSec), to: isoOf(w.score.toSec) },
        purgeHours: w.purgeSec / 3600,
        purge: w.purgeExplanation,
      },
      rows: r.rows.map((row) => ({ ...row, settings: configurationAt(grid, row.configuration) })),
      tune: r.tune.map((summary, i) => ({
        configuration: i,
        label: configurationLabel(grid, i),
        ...summary,
      })),
      buyAndHold: r.buyAndHold,
      timing: r.timing,
      notes: r.notes,
      ...extra,
    },
    (_key, value) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value),
    2,
  )}\n`;
}
