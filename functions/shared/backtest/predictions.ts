/**
 * Candles and model probabilities for a backtest: the live feature engine over each whole series
 * (computeFeatureMatrix; equal to the live 500-candle window to 1e-9 relative, see SERVING_WINDOW),
 * the live float32 conversion (toModelInput) and batched inference. Probabilities are cached on
 * disk per (model sha256, candle file sha256), so a re-run with other risk or fee settings skips
 * the model entirely.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Granularity } from "../domain/schemas.js";
import { computeFeatureMatrix, FEATURE_COUNT } from "../features/index.js";
import {
  type CandleColumns,
  type CandleFile,
  listCandleFiles,
  readCandleColumns,
  toCoinbaseProductId,
} from "../market-data/replay.js";
import { predictInBatches, type SignalModel, toModelInput } from "../model/index.js";
import type { BacktestSymbol } from "./engine.js";
import { firstScorableRow } from "./signals.js";

export interface MarketSeries {
  file: CandleFile;
  columns: CandleColumns;
  /** sha256 of the file's bytes */
  sha256: string;
}

/** The candle files of one granularity, optionally only some symbols (BTC-USDT or BTC-USD). */
export function loadMarket(
  dir: string,
  granularity: Granularity,
  symbols?: readonly string[],
): MarketSeries[] {
  const wanted = symbols?.map(toCoinbaseProductId);
  const files = listCandleFiles(dir).filter(
    (f) => f.granularity === granularity && (!wanted || wanted.includes(f.productId)),
  );
  if (wanted) {
    const missing = wanted.filter((w) => !files.some((f) => f.productId === w));
    if (missing.length > 0)
      throw new Error(
        `no ${granularity} candle file in ${dir} for ${missing.join(", ")}; available: ${listCandleFiles(dir)
          .filter((f) => f.granularity === granularity)
          .map((f) => f.sourceSymbol)
          .join(", ")}`,
      );
  }
  if (files.length === 0) throw new Error(`no ${granularity} candle files (<BASE>-<QUOTE>_1h.csv) in ${dir}`);
  return files.map((file) => {
    const bytes = readFileSync(file.path);
    return {
      file,
      columns: readCandleColumns(file.path),
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  });
}

export interface PredictionTiming {
  featuresMs: number;
  inferenceMs: number;
  cacheHits: number;
  rowsInferred: number;
}

export interface PredictOptions {
  /** where cached probabilities live; undefined: no cache */
  cacheDir?: string;
  timing?: PredictionTiming;
  onSymbol?(done: number, total: number): void;
}

export function predictionCachePath(cacheDir: string, modelSha: string, fileSha: string): string {
  return join(cacheDir, `${modelSha.slice(0, 16)}-${fileSha.slice(0, 16)}.bin`);
}

/** The model's inputs of rows [first, length) of a series: live features, live float32 conversion. */
export function modelInputOf(columns: CandleColumns, first: number): Float32Array {
  const matrix = computeFeatureMatrix(columns);
  const rows = Math.max(0, columns.length - first);
  return toModelInput(matrix.subarray(first * FEATURE_COUNT), new Float32Array(rows * FEATURE_COUNT));
}

/** rows x 3 probabilities for every scorable row of each series (rows before the window: NaN). */
export async function predictMarket(
  model: SignalModel,
  market: readonly MarketSeries[],
  options: PredictOptions = {},
): Promise<BacktestSymbol[]> {
  const first = firstScorableRow();
  const out: BacktestSymbol[] = [];
  for (const [k, series] of market.entries()) {
    const n = series.columns.length;
    const path = options.cacheDir && predictionCachePath(options.cacheDir, model.sha256, series.sha256);
    let probabilities = path ? readCached(path, n) : undefined;
    if (probabilities) {
      if (options.timing) options.timing.cacheHits++;
    } else {
      probabilities = new Float32Array(n * 3).fill(Number.NaN);
      if (n > first) {
        const t0 = performance.now();
        const input = modelInputOf(series.columns, first);
        const t1 = performance.now();
        probabilities.set(await predictInBatches(model, input, n - first), first * 3);
        const t2 = performance.now();
        if (options.timing) {
          options.timing.featuresMs += t1 - t0;
          options.timing.inferenceMs += t2 - t1;
          options.timing.rowsInferred += n - first;
        }
      }
      if (path && options.cacheDir) writeCached(options.cacheDir, path, probabilities);
    }
    out.push({
      productId: series.file.productId,
      start: series.columns.start,
      close: series.columns.close,
      volume: series.columns.volume,
      length: n,
      probabilities,
    });
    options.onSymbol?.(k + 1, market.length);
  }
  return out;
}

function readCached(path: string, rows: number): Float32Array | undefined {
  if (!existsSync(path)) return undefined;
  const bytes = readFileSync(path);
  // a file of another length is not this series' cache (e.g. an interrupted write): recompute
  if (bytes.length !== rows * 3 * 4) return undefined;
  const out = new Float32Array(rows * 3);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function writeCached(dir: string, path: string, probabilities: Float32Array): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    new Uint8Array(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength),
  );
  renameSync(tmp, path);
}
