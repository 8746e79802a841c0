/**
 * Candles and model probabilities for a backtest: the live feature engine over each whole series
 * (computeModelInputRows: the features equal the live 500-candle window to 1e-9 relative, see
 * SERVING_WINDOW, and the float32 conversion is the live toModelInput's) and batched inference. Probabilities are cached on
 * disk per (model sha256, candle file sha256), so a re-run with other risk or fee settings skips
 * the model entirely.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Granularity } from "#domain/schemas.js";
import {
  CHUNK_ROWS,
  computeModelInputRows,
  computeModelInputRowsInParts,
  FEATURE_COUNT,
} from "#features/index.js";
import {
  type CandleColumns,
  type CandleFile,
  CandleFileError,
  listCandleFiles,
  parseCandleColumns,
  toCoinbaseProductId,
} from "#market-data/replay.js";
import { predictInBatches, type SignalModel } from "#model/index.js";
import { type InferenceThread, type Scored, startInferenceThread } from "#model/inference-thread.js";
import type { BacktestSymbol, ScoringPhase } from "./engine.js";
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
      throw new CandleFileError(
        `no ${granularity} candle file in ${dir} for ${missing.join(", ")}; available: ${listCandleFiles(dir)
          .filter((f) => f.granularity === granularity)
          .map((f) => f.sourceSymbol)
          .join(", ")}`,
      );
  }
  if (files.length === 0)
    throw new CandleFileError(`no ${granularity} candle files (<BASE>-<QUOTE>_1h.csv) in ${dir}`);
  return files;
}

/** A candle file's bytes, read once, and their sha256 (the prediction cache key). */
export interface MarketFile {
  file: CandleFile;
  bytes: Buffer;
  sha256: string;
}

export function readMarketFiles(files: readonly CandleFile[]): MarketFile[] {
  return files.map((file) => {
    const bytes = readFileSync(file.path);
    return { file, bytes, sha256: sha256Hex(bytes) };
  });
}

/**
 * A candle file to score: already read (the caller had to hash it, to look in the cache) or only
 * named, read when its turn comes.
 */
export type MarketSource = MarketFile | CandleFile;

function isRead(source: MarketSource): source is MarketFile {
  return "bytes" in source;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads files one after the other into one buffer, grown as needed: the bytes of a file are only
 * parsed and hashed, so the next file can reuse them, and the process touches fresh memory once
 * (page faults are most of what reading costs here) instead of once per file.
 */
class ReusedFileBuffer {
  private buffer = Buffer.alloc(0);

  /** The file's bytes, valid until the next call. */
  read(path: string): Buffer {
    const fd = openSync(path, "r");
    try {
      let size = 0;
      for (let room = fstatSync(fd).size + 1; ; room = this.buffer.length * 2) {
        // one byte of room beyond the stated size, to see the end of a file that grew meanwhile
        if (this.buffer.length < room) {
          const grown = Buffer.allocUnsafe(room);
          this.buffer.copy(grown, 0, 0, size);
          this.buffer = grown;
        }
        for (let got = 1; got > 0 && size < this.buffer.length; size += got)
          got = readSync(fd, this.buffer, size, this.buffer.length - size, size);
        if (size < this.buffer.length) return this.buffer.subarray(0, size);
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** One candle file read once: its columns and the sha256 of its bytes. */
export function loadSeries(file: CandleFile): MarketSeries {
  const [read] = readMarketFiles([file]);
  return { file, columns: parseCandleColumns(read.bytes, file.path), sha256: read.sha256 };
}

export function loadMarket(
  dir: string,
  granularity: Granularity,
  symbols?: readonly string[],
): MarketSeries[] {
  return listMarketFiles(dir, granularity, symbols).map(loadSeries);
}

/** Whether the cache holds probabilities of this model for any file. */
export function anyCachedPredictions(cacheDir: string | undefined, modelSha: string): boolean {
  if (cacheDir === undefined || !existsSync(cacheDir)) return false;
  const prefix = `${modelSha.slice(0, 16)}-`;
  return readdirSync(cacheDir).some((name) => name.startsWith(prefix));
}

/** Whether the cache holds probabilities for this file and model (a damaged entry is found later). */
export function hasCachedPredictions(
  cacheDir: string | undefined,
  modelSha: string,
  market: MarketFile,
): boolean {
  return cacheDir !== undefined && existsSync(predictionCachePath(cacheDir, modelSha, market.sha256));
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
   * The worker thread to score on (a second session on the same ONNX file, see inference-thread.ts)
   * while this thread parses files and computes features for the next symbols; asked for at the
   * first symbol the model must score. The caller starts, reuses and closes it. Without it,
   * everything runs one step after the other on this thread.
   */
  inferenceThread?: () => InferenceThread;
  timing?: PredictionTiming;
  /** parts scored (each symbol counts two: its history and its most recent TAIL_SHARE) */
  onProgress?(done: number, total: number): void;
}

export function predictionCachePath(cacheDir: string, modelSha: string, fileSha: string): string {
  return join(cacheDir, `${modelSha.slice(0, 16)}-${fileSha.slice(0, 16)}.bin`);
}

/**
 * The model's inputs of rows [first, length) of a series, in a fresh array: the live feature
 * engine and the live float32 conversion (computeModelInputRows equals toModelInput of
 * computeFeatureMatrix bit for bit).
 */
export function modelInputOf(columns: CandleColumns, first: number): Float32Array {
  return computeModelInputRows(columns, Math.min(first, columns.length));
}

/**
 * Rows per message to the inference thread (16 chunks of the feature engine, 3.3 MB): parts of one
 * size, so a few buffers, handed back by the model, carry every series whatever its length.
 */
const PART_ROWS = 16 * CHUNK_ROWS;
const PART_BYTES = PART_ROWS * FEATURE_COUNT * Float32Array.BYTES_PER_ELEMENT;
/** Symbols whose features wait for, or are being scored by, the model at once (bounds memory). */
const SYMBOLS_IN_FLIGHT = 3;
/**
 * With an inference thread, the most recent share of each symbol's rows is scored last, after
 * every symbol's history, so the replay runs through history while the model scores the tails.
 */
const TAIL_SHARE = 0.15;

export interface MarketPredictions {
  /** in the order of the files; candles complete, probabilities filling in phase by phase */
  symbols: BacktestSymbol[];
  /** for runBacktest: which rows are final when */
  phases: ScoringPhase[];
  /** every row scored and cached; rejects with the first failure */
  finished: Promise<void>;
}

/**
 * rows x 3 probabilities for every scorable row of each file's series (rows before the window:
 * NaN), in the order of `files`. Files are parsed one at a time, smallest first, so with an
 * inference thread the model scores the first symbols while later files are still being parsed.
 */
export async function predictMarket(
  model: SignalModel,
  files: readonly MarketSource[],
  options: Omit<PredictOptions, "inferenceThread"> & { inferenceWorker?: { modelPath: string } } = {},
): Promise<BacktestSymbol[]> {
  const { inferenceWorker, ...rest } = options;
  let thread: InferenceThread | undefined;
  try {
    const predictions = await startMarketPredictions(model, files, {
      ...rest,
      ...(inferenceWorker
        ? { inferenceThread: () => (thread ??= startInferenceThread(model, inferenceWorker.modelPath)) }
        : {}),
    });
    await predictions.finished;
    if (thread && options.timing) options.timing.inferenceMs += thread.busyMs;
    return predictions.symbols;
  } finally {
    await thread?.close();
  }
}

/**
 * Reads every file and computes its features, and returns once the last rows are on their way to
 * the model: with an inference thread, scoring goes on behind `phases` and `finished`, and only the
 * model's sha256 (the cache key) is needed here. Files not yet read are read one at a time, each
 * when its turn comes, and their rows go to the model in parts of PART_ROWS as they are computed, so
 * the model starts on the first rows of the first file.
 */
export async function startMarketPredictions(
  model: SignalModel | { readonly sha256: string },
  files: readonly MarketSource[],
  options: PredictOptions = {},
): Promise<MarketPredictions> {
  const first = firstScorableRow();
  const timing = options.timing;
  const symbols: BacktestSymbol[] = new Array(files.length);
  const heads: Promise<void>[] = [];
  const tails: Promise<void>[] = [];
  const tailInputs: {
    rows: Float32Array;
    rowCount: number;
    resolve(scored: Scored): void;
    reject(e: unknown): void;
  }[] = [];
  const inFlight: Promise<unknown>[] = [];
  let failure: unknown;
  let thread: InferenceThread | undefined;
  /** rows with a candle start before this are in the first phase */
  let headsBeforeSec = Number.POSITIVE_INFINITY;
  /** part buffers back from the model, for the next parts */
  const spare: ArrayBuffer[] = [];
  let done = 0;
  const progress = (parts: number) => {
    done += parts;
    options.onProgress?.(done, files.length * 2);
  };
  const fail = (error: unknown) => {
    failure ??= error;
  };
  // smallest files first: the model gets its first rows sooner, while this thread's code is still
  // cold; the results stay in the order of `files`
  const order = files
    .map((source, k) => ({ k, bytes: isRead(source) ? source.bytes.length : statSync(source.path).size }))
    .sort((a, b) => a.bytes - b.bytes || a.k - b.k)
    .map((entry) => entry.k);
  const reader = new ReusedFileBuffer();
  for (const k of order) {
    const source = files[k];
    const t0 = performance.now();
    const file = isRead(source) ? source.file : source;
    const bytes = isRead(source) ? source.bytes : reader.read(source.path);
    const series: MarketSeries = {
      file,
      columns: parseCandleColumns(bytes, file.path),
      sha256: isRead(source) ? source.sha256 : sha256Hex(bytes),
    };
    if (timing) timing.loadMs += performance.now() - t0;
    const n = series.columns.length;
    const path = options.cacheDir && predictionCachePath(options.cacheDir, model.sha256, series.sha256);
    const cached = path ? readCached(path, n) : undefined;
    const symbol: BacktestSymbol = {
      productId: series.file.productId,
      start: series.columns.start,
      open: series.columns.open,
      high: series.columns.high,
      low: series.columns.low,
      close: series.columns.close,
      volume: series.columns.volume,
      length: n,
      probabilities: cached ?? new Float32Array(n * 3).fill(Number.NaN),
    };
    symbols[k] = symbol;
    if (cached) {
      if (timing) timing.cacheHits++;
      progress(2);
      continue;
    }
    const rows = n - first;
    if (rows <= 0) {
      if (path && options.cacheDir) writeCached(options.cacheDir, path, symbol.probabilities);
      progress(2);
      continue;
    }
    if (!options.inferenceThread) {
      if (!("predict" in model)) {
        throw new TypeError(
          "startMarketPredictions: without an inference thread, pass the loaded SignalModel",
        );
      }
      // one thread: nothing to overlap, score before reading the next file
      const t1 = performance.now();
      const input = modelInputOf(series.columns, first);
      const t2 = performance.now();
      symbol.probabilities.set(await predictInBatches(model, input, rows), first * 3);
      if (timing) {
        timing.featuresMs += t2 - t1;
        timing.inferenceMs += performance.now() - t2;
        timing.rowsInferred += rows;
      }
      if (path && options.cacheDir) writeCached(options.cacheDir, path, symbol.probabilities);
      progress(2);
      continue;
    }
    const worker = (thread ??= options.inferenceThread());
    // rows [first, split) are the symbol's history (first phase), [split, n) its most recent TAIL_SHARE
    const tailRows = Math.min(rows - 1, Math.ceil(rows * TAIL_SHARE));
    const split = n - tailRows;
    const tail = new Float32Array(tailRows * FEATURE_COUNT);
    if (tailRows > 0) headsBeforeSec = Math.min(headsBeforeSec, series.columns.start[split]);
    let headPartsLeft = 0;
    let piecesLeft = tailRows > 0 ? 1 : 0;
    /** probabilities of rows [fromRow, fromRow + rowCount) are in */
    const scored = (fromRow: number, rowCount: number, head: boolean) => (result: Scored) => {
      symbol.probabilities.set(result.probabilities, fromRow * 3);
      if (result.rows.byteLength === PART_BYTES) spare.push(result.rows);
      if (timing) timing.rowsInferred += rowCount;
      if (head && --headPartsLeft === 0) progress(tailRows > 0 ? 1 : 2);
      if (!head) progress(1);
      if (--piecesLeft === 0 && path && options.cacheDir)
        writeCached(options.cacheDir, path, symbol.probabilities);
    };
    const symbolHeads: Promise<void>[] = [];
    const t1 = performance.now();
    computeModelInputRowsInParts(series.columns, first, PART_ROWS, {
      take: () => new Float32Array(spare.pop() ?? new ArrayBuffer(PART_BYTES)),
      done: (part, fromRow, rowCount) => {
        const headCount = Math.max(0, Math.min(split - fromRow, rowCount));
        // the part's rows from the split on wait in the tail, which the model scores after every head
        if (headCount < rowCount)
          tail.set(
            part.subarray(headCount * FEATURE_COUNT, rowCount * FEATURE_COUNT),
            (fromRow + headCount - split) * FEATURE_COUNT,
          );
        if (headCount === 0) {
          spare.push(part.buffer as ArrayBuffer);
          return;
        }
        headPartsLeft++;
        piecesLeft++;
        const head = worker
          .predict(part.subarray(0, headCount * FEATURE_COUNT), headCount)
          .then(scored(fromRow, headCount, true), fail);
        symbolHeads.push(head);
        heads.push(head);
      },
    });
    if (timing) timing.featuresMs += performance.now() - t1;
    if (tailRows > 0) {
      tails.push(
        new Promise<Scored>((resolve, reject) =>
          tailInputs.push({ rows: tail, rowCount: tailRows, resolve, reject }),
        ).then(scored(split, tailRows, false)),
      );
    }
    inFlight.push(Promise.all(symbolHeads));
    while (inFlight.length >= SYMBOLS_IN_FLIGHT) await inFlight.shift();
    // on a failure, scoring still queued is abandoned: the caller closes the thread
    if (failure) throw failure;
  }
  // the tails go to the model after every head, in the same queue
  for (const tail of tailInputs) {
    (thread as InferenceThread).predict(tail.rows, tail.rowCount).then(tail.resolve, tail.reject);
  }
  const headsDone = Promise.all(heads).then(() => {
    if (failure) throw failure;
  });
  const allDone = Promise.all([...heads, ...tails]).then(() => {
    if (failure) throw failure;
  });
  // a phase nobody waits for (the replay stopped at an earlier failure) must not be unhandled
  headsDone.catch(() => {});
  allDone.catch(() => {});
  return {
    symbols,
    phases: [
      ...(Number.isFinite(headsBeforeSec) ? [{ beforeSec: headsBeforeSec, done: headsDone }] : []),
      { beforeSec: Number.POSITIVE_INFINITY, done: allDone },
    ],
    finished: allDone,
  };
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
