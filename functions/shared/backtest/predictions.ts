/**
 * Candles and model probabilities for a backtest: the live feature engine over each whole series
 * (computeFeatureMatrix; equal to the live 500-candle window to 1e-9 relative, see SERVING_WINDOW),
 * the live float32 conversion (toModelInput) and batched inference. Probabilities are cached on
 * disk per (model sha256, candle file sha256), so a re-run with other risk or fee settings skips
 * the model entirely.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Granularity } from "../domain/schemas.js";
import { computeFeatureMatrix, FEATURE_COUNT } from "../features/index.js";
import {
  type CandleColumns,
  type CandleFile,
  listCandleFiles,
  parseCandleColumns,
  toCoinbaseProductId,
} from "../market-data/replay.js";
import { predictInBatches, type SignalModel, toModelInput } from "../model/index.js";
import { type InferenceThread, startInferenceThread } from "../model/inference-thread.js";
import type { BacktestSymbol } from "./engine.js";
import { firstScorableRow } from "./signals.js";

export interface MarketSeries {
  file: CandleFile;
  columns: CandleColumns;
  /** sha256 of the file's bytes */
  sha256: string;
}

/** The candle files of one granularity, optionally only some symbols (BTC-USDT or BTC-USD). */
export function listMarketFiles(
  dir: string,
  granularity: Granularity,
  symbols?: readonly string[],
): CandleFile[] {
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
  return files;
}

/** One candle file read once: its columns and the sha256 of its bytes. */
export function loadSeries(file: CandleFile): MarketSeries {
  const bytes = readFileSync(file.path);
  return {
    file,
    columns: parseCandleColumns(bytes, file.path),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

export function loadMarket(
  dir: string,
  granularity: Granularity,
  symbols?: readonly string[],
): MarketSeries[] {
  return listMarketFiles(dir, granularity, symbols).map(loadSeries);
}

export interface PredictionTiming {
  /** reading, hashing and parsing candle files */
  loadMs: number;
  featuresMs: number;
  /** time the model spent scoring (on the inference thread when there is one) */
  inferenceMs: number;
  cacheHits: number;
  rowsInferred: number;
}

export interface PredictOptions {
  /** where cached probabilities live; undefined: no cache */
  cacheDir?: string;
  /**
   * Score on a worker thread (a second session on this ONNX file, see inference-thread.ts) while
   * this thread loads files and computes features for the next symbols. Without it, everything
   * runs one step after the other on this thread.
   */
  inferenceWorker?: { modelPath: string };
  timing?: PredictionTiming;
  onSymbol?(done: number, total: number): void;
}

export function predictionCachePath(cacheDir: string, modelSha: string, fileSha: string): string {
  return join(cacheDir, `${modelSha.slice(0, 16)}-${fileSha.slice(0, 16)}.bin`);
}

/** The model's inputs of rows [first, length) of a series: live features, live float32 conversion. */
export function modelInputOf(columns: CandleColumns, first: number, scratch?: Float64Array): Float32Array {
  const matrix = computeFeatureMatrix(columns, scratch);
  const rows = Math.max(0, columns.length - first);
  return toModelInput(
    matrix.subarray(first * FEATURE_COUNT, columns.length * FEATURE_COUNT),
    new Float32Array(rows * FEATURE_COUNT),
  );
}

/** Symbols whose features wait for, or are being scored by, the model at once (bounds memory). */
const SYMBOLS_IN_FLIGHT = 3;

/**
 * rows x 3 probabilities for every scorable row of each file's series (rows before the window:
 * NaN), in the order of `files`. Files are read one at a time, so with an inference worker the
 * first symbol is scored while the others are still being read.
 */
export async function predictMarket(
  model: SignalModel,
  files: readonly CandleFile[],
  options: PredictOptions = {},
): Promise<BacktestSymbol[]> {
  const first = firstScorableRow();
  const timing = options.timing;
  const out: BacktestSymbol[] = new Array(files.length);
  const inFlight: Promise<void>[] = [];
  let failure: unknown;
  let thread: InferenceThread | undefined;
  let scratch: Float64Array | undefined;
  let done = 0;
  const finished = () => options.onSymbol?.(++done, files.length);
  // smallest files first: the model gets its first rows sooner, while this thread's code is still
  // cold; the results stay in the order of `files`
  const order = files
    .map((file, k) => ({ k, bytes: statSync(file.path).size }))
    .sort((a, b) => a.bytes - b.bytes || a.k - b.k)
    .map((entry) => entry.k);
  try {
    for (const k of order) {
      const file = files[k];
      const t0 = performance.now();
      const series = loadSeries(file);
      if (timing) timing.loadMs += performance.now() - t0;
      const n = series.columns.length;
      const path = options.cacheDir && predictionCachePath(options.cacheDir, model.sha256, series.sha256);
      const cached = path ? readCached(path, n) : undefined;
      const symbol: BacktestSymbol = {
        productId: series.file.productId,
        start: series.columns.start,
        close: series.columns.close,
        volume: series.columns.volume,
        length: n,
        probabilities: cached ?? new Float32Array(n * 3).fill(Number.NaN),
      };
      out[k] = symbol;
      if (cached) {
        if (timing) timing.cacheHits++;
        finished();
        continue;
      }
      if (n <= first) {
        if (path && options.cacheDir) writeCached(options.cacheDir, path, symbol.probabilities);
        finished();
        continue;
      }
      const t1 = performance.now();
      if (!scratch || scratch.length < n * FEATURE_COUNT)
        scratch = new Float64Array(Math.ceil(n * 1.25) * FEATURE_COUNT);
      const input = modelInputOf(series.columns, first, scratch);
      if (timing) timing.featuresMs += performance.now() - t1;
      const rows = n - first;
      let scoring: Promise<Float32Array>;
      if (options.inferenceWorker) {
        thread ??= startInferenceThread(model, options.inferenceWorker.modelPath);
        scoring = thread.predict(input, rows);
      } else {
        // one thread: nothing to overlap, score before reading the next file
        const t2 = performance.now();
        const probabilities = await predictInBatches(model, input, rows);
        if (timing) timing.inferenceMs += performance.now() - t2;
        scoring = Promise.resolve(probabilities);
      }
      inFlight.push(
        scoring.then(
          (probabilities) => {
            symbol.probabilities.set(probabilities, first * 3);
            if (timing) timing.rowsInferred += rows;
            if (path && options.cacheDir) writeCached(options.cacheDir, path, symbol.probabilities);
            finished();
          },
          (error: unknown) => {
            failure ??= error;
          },
        ),
      );
      while (inFlight.length >= SYMBOLS_IN_FLIGHT) await inFlight.shift();
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    if (thread && timing) timing.inferenceMs += thread.busyMs;
    return out;
  } finally {
    await thread?.close();
  }
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
