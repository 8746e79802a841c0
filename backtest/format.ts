/** The terminal summary and the JSON written by `--json`. */

import { type ExitSettings, formatLadder } from "#exits/exit-settings.js";
import type { PerformanceMetrics } from "./metrics.js";
import type { BacktestResult } from "./run.js";
import { formatValue, type SettingReport } from "./settings.js";
import type { StepCheck } from "./step-check.js";
import { inSampleBanner } from "./windows.js";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const usd = (x: number) => `$${x.toFixed(2)}`;
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

export function metricRows(
  strategy: PerformanceMetrics,
  hold: PerformanceMetrics,
): [string, string, string][] {
  const row = (name: string, f: (m: PerformanceMetrics) => string): [string, string, string] => [
    name,
    f(strategy),
    f(hold),
  ];
  return [
    row("final equity", (m) => usd(m.finalEquityUsd)),
    row("total return", (m) => pct(m.totalReturn)),
    row("annualised return", (m) => pct(m.annualisedReturn)),
    row("Sharpe (hourly, x sqrt(8760))", (m) => num(m.sharpe)),
    row("Sortino (hourly, x sqrt(8760))", (m) => num(m.sortino)),
    row("max drawdown", (m) => pct(m.maxDrawdown)),
    row("max drawdown peak", (m) => m.maxDrawdownPeakAt ?? "-"),
    row("max drawdown trough", (m) => m.maxDrawdownTroughAt ?? "-"),
    row("trades (orders filled)", (m) => String(m.trades)),
    row("closing trades", (m) => String(m.closedTrades)),
    row("win rate (closing trades)", (m) => (m.closedTrades > 0 ? pct(m.winRate) : "n/a (none closed)")),
    row("profit factor", (m) => (m.closedTrades > 0 ? num(m.profitFactor) : "n/a (none closed)")),
    row("exposure time", (m) => pct(m.exposureTime)),
    row("fees paid", (m) => usd(m.feesUsd)),
    row("slippage paid (vs close)", (m) => usd(m.slippageUsd)),
  ];
}

export function formatSummary(r: BacktestResult): string {
  const rows: [string, string, string][] = [
    ["", "strategy", "buy & hold (equal weight)"],
    ...metricRows(r.strategy, r.buyAndHold),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ")).join("\n");
  const refused = Object.entries(r.counts.refusedByRisk)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const inSample = r.window.inSample;
  return [
    ...(inSample ? [inSampleBanner(inSample)] : []),
    `${r.model.name} ${r.model.version} on ${r.candlesDir}: ${r.symbols.length} symbols, ${r.span.cycles} hourly cycles ${r.span.firstCycle} .. ${r.span.lastCycle}`,
    windowLine(r),
    ...settingsLines(r.settings.variables, r.settings.killSwitchResumeAfterHours),
    `exits in effect: ${exitsText(r.settings.exits)}`,
    ...r.notes.map((n) => `NOTE: ${n}`),
    "",
    ...(inSample
      ? [`IN-SAMPLE: ${(inSample.share * 100).toFixed(1)}% of this window was seen by the model (see above)`]
      : []),
    table,
    "",
    `signals acted on ${r.counts.signals}, recommendations ${r.counts.recommendations}, queued ${r.counts.queued}, expired ${r.counts.expired}, risk checks ${r.counts.riskChecks}, approved ${r.counts.approved}, orders refused ${r.refusedOrders.length}`,
    `risk refusals by reason: ${refused || "none"}`,
    `positions: ${r.positions.opened} opened, ${r.positions.closed} closed (${pct(r.positions.closedShare)}), ${r.positions.open} open at the end; win rate ${pct(r.positions.winRate)}, profit factor ${num(r.positions.profitFactor)}, average holding ${r.positions.averageHoldingHours.toFixed(1)} h`,
    `exits by reason: ${
      Object.entries(r.positions.exits)
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    }`,
    `max drawdown ${pct(r.strategy.maxDrawdown)} against the ${pct(r.drawdownBound.maxDrawdownLimit)} limit; largest one-cycle fall of equity ${usd(r.drawdownBound.largestBarLossUsd)} (what a drawdown may pass its limit by), largest loss beyond the stops ${usd(r.drawdownBound.largestStopGapUsd)}`,
    `open at the end: ${r.openPositions.length} holdings worth ${usd(r.openPositions.reduce((s, p) => s + p.valueUsd, 0))}`,
    `trade list sha256 ${r.tradesSha256}`,
    ...(r.stepCheck ? [stepCheckLine(r.stepCheck)] : []),
    `time: model ${ms(r.timing.modelMs)}, candles ${ms(r.timing.loadMs)}, features ${ms(r.timing.featuresMs)}, inference ${ms(r.timing.inferenceMs)}${r.timing.inferenceThread && r.timing.rowsInferred > 0 ? " on a worker thread" : ""} (${r.timing.rowsInferred} rows, ${r.timing.cacheHits} cached series; these three took ${ms(r.timing.predictMs)}), replay ${ms(r.timing.replayMs)} (${r.counts.candleSteps} candle-steps, ${Math.round(r.counts.candleSteps / (r.timing.replayMs / 1000)).toLocaleString("en-US")}/s), total ${ms(r.timing.totalMs)} (CPU ${ms(r.timing.cpuMs)}, peak RSS ${Math.round(r.timing.peakRssMb)} MB)`,
  ].join("\n");
}

/** --check-steps' verdict in one line. */
export function stepCheckLine(c: StepCheck): string {
  const what = `the live pipeline's steps on the paper venue (${ms(c.stepMs)})`;
  return c.firstDifference
    ? `CHECK FAILED against ${what}: ${c.firstDifference}. The fast replay is wrong here; please report it with this line.`
    : `check: ${what} placed the same ${c.orders} orders and had the same equity after each of ${c.cycles} cycles (to 1e-9)`;
}

function windowLine(r: BacktestResult): string {
  const w = r.window;
  const start =
    w.fromChosen === "given"
      ? "--from"
      : w.fromChosen === "after the model's fitted data"
        ? "default: the first candle the model has not seen"
        : "default: the first scorable candle";
  const unseen = w.firstUnseen
    ? `; the model has not seen candles from ${w.firstUnseen} on (its card)`
    : "; no model card: in-sample overlap unknown";
  return `window: candle closes in [${w.from}, ${w.to}) (${start})${w.inSample ? "" : unseen}${w.inSample ? "; IN-SAMPLE" : w.firstUnseen ? ", out of sample" : ""}`;
}

/** The settings in effect, by group; those that differ from the defaults marked and listed first. */
export function settingsLines(variables: readonly SettingReport[], resumeAfterHours?: number): string[] {
  const changed = variables.filter((v) => v.differs);
  const effective = variables.filter((v) => !v.noEffect);
  const groups = new Map<string, string[]>();
  for (const v of effective) {
    const group = v.name.split("_")[0];
    const cell = `${v.differs ? "*" : ""}${v.name}=${formatValue(v.value)}`;
    groups.set(group, [...(groups.get(group) ?? []), cell]);
  }
  return [
    changed.length === 0
      ? "settings: the live defaults (nothing set in the environment, --config or the flags)"
      : `settings that differ from the defaults: ${changed.map((v) => `${v.name}=${formatValue(v.value)} (default ${formatValue(v.default)}, from ${v.source})`).join(", ")}`,
    `settings in effect (* = not the default): ${[...groups.values()].map((cells) => cells.join(" ")).join(" | ")}`,
    `read, but no effect in a replay: ${variables
      .filter((v) => v.noEffect)
      .map((v) => v.name)
      .join(
        ", ",
      )} (--json says why)${resumeAfterHours !== undefined ? `; operator replayed: --resume-kill-switch-after ${resumeAfterHours} h` : ""}`,
  ];
}

/** The exit policy's settings in words (EXIT_* / KILL_SWITCH_FLATTEN once the config reads them). */
export function exitsText(e: ExitSettings): string {
  return [
    `take-profit ladder ${e.takeProfitLadder.length > 0 ? `${formatLadder(e.takeProfitLadder)} (R:share)` : "none"}`,
    e.trailing
      ? `trailing stop from ${e.trailing.activationR}R at ${e.trailing.distanceR}R`
      : "no trailing stop",
    e.timeLimitCandles > 0 ? `time limit ${e.timeLimitCandles} candles` : "no time limit",
    `SELL signal exits ${e.exitOnSellSignal ? "on" : "off"}`,
    `kill switch flattens ${e.flattenOnKillSwitch ? "on every trip" : "on a drawdown halt only"}`,
  ].join(", ");
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`;
}

/** Everything but the curves and the candles. */
export function resultJson(r: BacktestResult): Record<string, unknown> {
  const { curves: _curves, market: _market, ...rest } = r;
  return rest;
}
