/**
 * npm run backtest -- --candles <dir> [--symbols BTC-USDT,ETH-USDT] [--from ISO] [--to ISO]
 *   [--config settings.json] [--model models/signal-model.onnx] [--fee-bps 60] [--slippage-bps 5]
 *   [--equity 10000] [--json out.json] [--report out.html] [--no-cache | --cache-dir DIR] [--single-thread]
 * Replays 1h candles through the live chain's own code (features, model, thresholds, bridge, risk,
 * exits, paper fill model, portfolio) with the live functions' settings (the environment, then
 * --config, then the shorthand flags; backtest/settings.ts), from the first candle the model has not
 * seen unless --from says otherwise (backtest/windows.ts), and compares with equal-weight
 * buy-and-hold. The LLM veto is not applied.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import cliProgress from "cli-progress";
import { formatSummary, resultJson } from "#backtest/format.js";
import { renderReport } from "#backtest/report.js";
import { backtestCandles } from "#backtest/run.js";
import { BACKTEST_VARIABLES, commandLineSources, resolveSettings } from "#backtest/settings.js";
import { sweepMain, wantsSweep } from "#backtest/sweep-cli.js";
import { benchBacktest } from "#bench/backtest.js";
import { COMMON_HELP, type OptionValues, reportingFailures, runCommand, UsageError } from "#local/cli.js";

export { benchBacktest };

const ROOT = resolve(import.meta.dirname, "..");
const usage = [
  "usage: npm run backtest -- --candles <dir> [--symbols BTC-USDT,ETH-USDT] [--from ISO] [--to ISO] [--config settings.json] [--model <file.onnx>] [--fee-bps N] [--slippage-bps N] [--equity 10000] [--json out.json] [--report out.html] [--no-cache | --cache-dir DIR] [--single-thread] [--resume-kill-switch-after HOURS] [--check-steps]",
  "       npm run backtest -- --sweep grid.json [...] (walk-forward tuning; --sweep grid.json --help)",
  "",
  "Window: cycles for candle closes in [--from, --to). Without --from the replay starts at the first candle the model's card says it has not seen; a window that overlaps its training or selection period is marked IN-SAMPLE.",
  "Settings: the live functions' variables, read and checked by the same config schema, from the environment, then --config (a JSON object of these names and values), then --equity (PAPER_STARTING_CASH_USD), --fee-bps (PAPER_TAKER_FEE_BPS), --slippage-bps (PAPER_SLIPPAGE_BPS):",
  `  ${BACKTEST_VARIABLES.join(", ")}`,
  COMMON_HELP,
  "--check-steps: replay the window a second time through the live pipeline's own steps (in-memory stores, the paper venue) and compare every order and every cycle's equity; exit 1 if they differ.",
  "See docs/BACKTEST.md and the configuration table in README.md.",
].join("\n");

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${flag} ${value} is not an ISO date or time (e.g. 2024-01-01T00:00:00Z)`);
  return ms / 1000;
}

function parseHours(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new UsageError(`--${flag} ${value} is not a number of hours >= 0 (such as 24)`);
  return n;
}

function defaultCandles(): string {
  const shared = resolve(ROOT, "../shared/data/candles");
  return existsSync(shared) ? shared : resolve(ROOT, "data/replay");
}

const OPTIONS = {
  candles: { type: "string" },
  symbols: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  config: { type: "string" },
  model: { type: "string" },
  "fee-bps": { type: "string" },
  "slippage-bps": { type: "string" },
  equity: { type: "string" },
  json: { type: "string" },
  report: { type: "string" },
  "no-cache": { type: "boolean" },
  "cache-dir": { type: "string" },
  "single-thread": { type: "boolean" },
  "resume-kill-switch-after": { type: "string" },
  "check-steps": { type: "boolean" },
} as const;

async function main(argv: readonly string[]): Promise<void> {
  await runCommand(
    { name: "npm run backtest", usage, options: OPTIONS },
    ({ values }) => backtest(values),
    argv,
  );
}

async function backtest(values: OptionValues<typeof OPTIONS>): Promise<void> {
  // every setting is checked before any file is read
  const settings = resolveSettings(
    commandLineSources({
      env: process.env,
      configFile: values.config,
      flags: { equity: values.equity, "fee-bps": values["fee-bps"], "slippage-bps": values["slippage-bps"] },
    }),
  );
  const fromSec = parseTime("from", values.from);
  const toSec = parseTime("to", values.to);
  const killSwitchResumeAfterHours = parseHours(
    "resume-kill-switch-after",
    values["resume-kill-switch-after"],
  );
  const started = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  let barPhase = "";
  const progress = (phase: string, done: number, total: number) => {
    if (!process.stderr.isTTY) return;
    if (!bar && performance.now() - started > 1000) {
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: "{phase} [{bar}] {percentage}% {value}/{total}", hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done, { phase });
      barPhase = phase;
    }
    if (!bar) return;
    if (phase !== barPhase) {
      bar.setTotal(total);
      barPhase = phase;
    }
    bar.update(done, { phase });
  };
  const result = await backtestCandles({
    candlesDir: values.candles ?? defaultCandles(),
    symbols: values.symbols?.split(",").map((s) => s.trim()),
    fromSec,
    toSec,
    modelPath: values.model ?? resolve(ROOT, "models/signal-model.onnx"),
    settings,
    cacheDir: values["no-cache"]
      ? undefined
      : resolve(values["cache-dir"] ?? resolve(ROOT, ".cache/predictions")),
    inferenceThread: !values["single-thread"],
    killSwitchResumeAfterHours,
    checkSteps: values["check-steps"] ?? false,
    onProgress: progress,
  }).finally(() => bar?.stop());
  console.log(formatSummary(result));
  if (result.stepCheck?.firstDifference) process.exitCode = 1;
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(resultJson(result), null, 2)}\n`);
    console.log(`wrote ${values.json}`);
  }
  if (values.report) {
    await writeFile(values.report, renderReport(result));
    console.log(`wrote ${values.report}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  // walk-forward tuning has its own options (backtest/sweep-cli.ts); failures are reported the same way
  if (wantsSweep(argv))
    await reportingFailures("npm run backtest", argv, () => sweepMain(argv.filter((a) => a !== "--debug")));
  else await main(argv);
}
