/**
 * npm run backtest -- --sweep grid.json [--tune-from ISO --tune-to ISO --score-from ISO --score-to ISO]
 *   [--metric sharpe|sortino|return|calmar] [--workers N] [--top K] [--json out.json]
 *   [--candles DIR] [--symbols A,B] [--model file.onnx] [--cache-dir DIR] [--allow-validation-window]
 *
 * Loads the market once (candles and the model's probabilities, from the prediction cache, computed
 * and cached first when missing), then runs the walk-forward sweep (sweep.ts) and prints its table.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_GRANULARITY } from "#defaults";
import { GRANULARITY_SECONDS } from "#domain/schemas.js";
import { FEATURE_COUNT } from "#features/index.js";
import { cardPathFor, type ModelCard, ModelCardSchema, signalModelSha256 } from "#model/index.js";
import { type InferenceThread, startInferenceThread } from "#model/inference-thread.js";
import {
  listMarketFiles,
  type PredictionTiming,
  readMarketFiles,
  startMarketPredictions,
} from "./predictions.js";
import { formatSweep, runSweep, sweepJson } from "./sweep.js";
import { longestTimeLimitCandles, parseGrid } from "./sweep-grid.js";
import { SWEEP_METRICS, type SweepMarket, type SweepMetric } from "./sweep-job.js";
import { SweepError, sweepSettingsFromEnvironment } from "./sweep-settings.js";
import { cardPeriodsOf, checkWindowHasCandles, walkForwardWindows } from "./sweep-windows.js";

const ROOT = resolve(import.meta.dirname, "..");

export const SWEEP_USAGE =
  "usage: npm run backtest -- --sweep grid.json [--tune-from ISO --tune-to ISO --score-from ISO --score-to ISO] [--metric sharpe|sortino|return|calmar] [--workers N] [--top K] [--json out.json] [--candles DIR] [--symbols BTC-USDT,ETH-USDT] [--model file.onnx] [--cache-dir DIR] [--allow-validation-window]";

/** Whether the command line asks for a sweep (bin/backtest.ts hands it over here). */
export function wantsSweep(argv: readonly string[]): boolean {
  return argv.some((a) => a === "--sweep" || a.startsWith("--sweep="));
}

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw new SweepError(
      `--${flag} ${value} is not an ISO date or time (e.g. 2023-07-01 or 2023-07-02T12:00:00Z)`,
    );
  return ms / 1000;
}

function parseWhole(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(/^\d+$/.test(value.trim()) && Number.isInteger(n) && n >= min))
    throw new SweepError(`--${flag} ${value}: expected a whole number >= ${min}`);
  return n;
}

function readCard(cardPath: string): ModelCard {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(cardPath, "utf8"));
  } catch (error) {
    throw new SweepError(
      `the model card ${cardPath} cannot be read (${(error as Error).message}); the sweep takes the label horizon and the training and validation periods from it`,
    );
  }
  const parsed = ModelCardSchema.safeParse(json);
  if (!parsed.success)
    throw new SweepError(
      `the model card ${cardPath} does not match the card schema: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  return parsed.data;
}

function readGridFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SweepError(
      `--sweep ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); give the path of a JSON grid such as {"EXIT_TIME_LIMIT_CANDLES": [6, 12]}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SweepError(`--sweep ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function sweepMain(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sweep: { type: "string" },
      "tune-from": { type: "string" },
      "tune-to": { type: "string" },
      "score-from": { type: "string" },
      "score-to": { type: "string" },
      metric: { type: "string" },
      workers: { type: "string" },
      top: { type: "string" },
      json: { type: "string" },
      candles: { type: "string" },
      symbols: { type: "string" },
      model: { type: "string" },
      "cache-dir": { type: "string" },
      "allow-validation-window": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help || !values.sweep) {
    console.log(SWEEP_USAGE);
    return;
  }
  const metric = (values.metric ?? "sharpe") as SweepMetric;
  if (!SWEEP_METRICS.includes(metric))
    throw new SweepError(`--metric ${values.metric}: expected one of ${SWEEP_METRICS.join(", ")}`);
  const workers = parseWhole("workers", values.workers, 1) ?? availableParallelism();
  const top = parseWhole("top", values.top, 1) ?? 10;
  const gridPath = values.sweep;
  const gridName = basename(gridPath);
  const base = sweepSettingsFromEnvironment(env);
  const grid = parseGrid(readGridFile(gridPath), gridName, base);
  console.log(
    `${gridName}: ${grid.count} configuration${grid.count === 1 ? "" : "s"} (${grid.keys.map((k, i) => `${k} x${grid.values[i]!.length}`).join(", ") || "no setting varied"})${
      Object.keys(base).length > 0
        ? `; from the environment: ${Object.entries(base)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : ""
    }`,
  );

  const granularity = DEFAULT_GRANULARITY;
  const interval = GRANULARITY_SECONDS[granularity];
  const modelPath = resolve(values.model ?? resolve(ROOT, "models/signal-model.onnx"));
  const card = readCard(cardPathFor(modelPath));
  const windows = walkForwardWindows(
    {
      tuneFromSec: parseTime("tune-from", values["tune-from"]),
      tuneToSec: parseTime("tune-to", values["tune-to"]),
      scoreFromSec: parseTime("score-from", values["score-from"]),
      scoreToSec: parseTime("score-to", values["score-to"]),
      allowValidationWindow: values["allow-validation-window"] ?? false,
    },
    cardPeriodsOf(card),
    longestTimeLimitCandles(grid),
    interval,
  );

  const candlesDir = values.candles ?? defaultCandles();
  const cacheDir = resolve(values["cache-dir"] ?? resolve(ROOT, ".cache/predictions"));
  const t0 = performance.now();
  const modelSha = await signalModelSha256(modelPath);
  if (card.model.sha256 !== modelSha)
    throw new SweepError(
      `the model card beside ${modelPath} describes another file (sha256 ${card.model.sha256.slice(0, 12)}…, the file is ${modelSha.slice(0, 12)}…): the sweep needs the card of this model`,
    );
  const files = readMarketFiles(
    listMarketFiles(
      candlesDir,
      granularity,
      values.symbols?.split(",").map((s) => s.trim()),
    ),
  );
  const timing: PredictionTiming = {
    loadMs: 0,
    featuresMs: 0,
    inferenceMs: 0,
    cacheHits: 0,
    rowsInferred: 0,
  };
  let thread: InferenceThread | undefined;
  let symbols: SweepMarket["symbols"];
  try {
    // probabilities from the cache; files not in it are scored once (and cached) before the workers start
    const predictions = await startMarketPredictions({ sha256: modelSha }, files, {
      cacheDir,
      inferenceThread: () =>
        (thread ??= startInferenceThread({ sha256: modelSha, featureCount: FEATURE_COUNT }, modelPath)),
      timing,
    });
    await predictions.finished;
    symbols = predictions.symbols;
  } finally {
    await thread?.close();
  }
  const loadMs = performance.now() - t0;
  console.log(
    `market: ${symbols.length} symbols from ${candlesDir}; probabilities ${timing.cacheHits === files.length ? "all from the cache" : `scored for ${files.length - timing.cacheHits} file(s) and cached`} (${cacheDir}); loaded in ${(loadMs / 1000).toFixed(2)} s`,
  );
  checkWindowHasCandles("tune", windows.tune, symbols, interval);
  checkWindowHasCandles("score", windows.score, symbols, interval);

  const market: SweepMarket = { symbols, granularity, intervalSeconds: interval, modelVersion: card.version };
  const result = await runSweep(market, {
    grid,
    windows,
    metric,
    top,
    workers,
    onProgress: progressLine,
  });
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  console.log(formatSweep(result, gridName));
  if (values.json) {
    const loaded = {
      candlesDir: resolve(candlesDir),
      symbols: symbols.map((s) => s.productId),
      modelVersion: card.version,
      cacheDir,
      cacheHits: timing.cacheHits,
      loadMs,
    };
    await writeFile(values.json, sweepJson(result, grid, { market: loaded }));
    console.log(`wrote ${values.json}`);
  }
}

let lastProgressMs = 0;
function progressLine(window: "tune" | "score", done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const now = performance.now();
  if (done < total && now - lastProgressMs < 200) return;
  lastProgressMs = now;
  process.stderr.write(`\r\x1b[K${window} window: ${done}/${total} configurations`);
}

function defaultCandles(): string {
  const shared = resolve(ROOT, "../shared/data/candles");
  return existsSync(shared) ? shared : resolve(ROOT, "data/replay");
}
