/**
 * Historical candles from the shared CSV folder (`<BASE>-<QUOTE>_<granularity>.csv`,
 * `timestamp,open,high,low,close,volume`, ascending), for backtests and local runs.
 *
 * The files are Binance USDT pairs. `toCoinbaseProductId` maps them onto the Coinbase USD book
 * of the same base (BTC-USDT -> BTC-USD): treating USDT as USD is an approximation that is
 * acceptable for replay and backtesting only, never for live prices.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type Candle,
  CandleNumbers,
  GRANULARITY_SECONDS,
  type Granularity,
  isValidCandleNumbers,
} from "#domain/schemas.js";
import { emptySeries, type OhlcvSeries } from "#features/series.js";
import type { CandleSource } from "./ingest.js";

export const FILE_GRANULARITIES: Readonly<Record<string, Granularity>> = {
  "1m": "ONE_MINUTE",
  "5m": "FIVE_MINUTE",
  "15m": "FIFTEEN_MINUTE",
  "30m": "THIRTY_MINUTE",
  "1h": "ONE_HOUR",
  "2h": "TWO_HOUR",
  "4h": "FOUR_HOUR",
  "6h": "SIX_HOUR",
  "1d": "ONE_DAY",
};

/** A candle folder, file or row that cannot be used; the message names it (file:line for a row) and the fix. */
export class CandleFileError extends Error {
  override readonly name = "CandleFileError";
}

export interface CandleFile {
  path: string;
  /** as in the file name, e.g. BTC-USDT */
  sourceSymbol: string;
  /** Coinbase product the candles stand in for, e.g. BTC-USD */
  productId: string;
  granularity: Granularity;
}

/** A candle file as columns: the feature engine's series type, so it is scored without copying. */
export type CandleColumns = OhlcvSeries;

/** Unix seconds; `from` inclusive, `to` exclusive (bucket open times). */
export interface TimeRange {
  from?: number;
  to?: number;
}

/** Binance `XXX-USDT` -> Coinbase `XXX-USD` (replay approximation, see module comment); others unchanged. */
export function toCoinbaseProductId(symbol: string): string {
  return symbol.endsWith("-USDT") ? `${symbol.slice(0, -5)}-USD` : symbol;
}

const FILE_NAME = /^([A-Z0-9]+)-([A-Z0-9]+)_(\d+[mhd])\.csv$/;

export function parseCandleFileName(path: string): CandleFile {
  const name = basename(path);
  const match = name.match(FILE_NAME);
  const granularity = match ? FILE_GRANULARITIES[match[3]!] : undefined;
  if (!match || !granularity) {
    throw new CandleFileError(
      `${name} is not a candle file name: expected <BASE>-<QUOTE>_<granularity>.csv with granularity one of ${Object.keys(FILE_GRANULARITIES).join(", ")}`,
    );
  }
  const sourceSymbol = `${match[1]}-${match[2]}`;
  return { path, sourceSymbol, productId: toCoinbaseProductId(sourceSymbol), granularity };
}

export function listCandleFiles(dir: string): CandleFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    throw new CandleFileError(
      `candle folder ${dir} ${code === "ENOENT" ? "does not exist" : "is not a folder"}: give a folder of <BASE>-<QUOTE>_<granularity>.csv files (such as data/replay)`,
    );
  }
  return names
    .filter((name) => FILE_NAME.test(name) && FILE_GRANULARITIES[name.match(FILE_NAME)![3]!] !== undefined)
    .sort()
    .map((name) => parseCandleFileName(join(dir, name)));
}

const HEADER = "timestamp,open,high,low,close,volume";

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Decimal text to number from bytes. mantissa / 10^k is one correctly rounded IEEE division of
 * two exact values, so it equals Number(text) while mantissa < 2^53 and k <= 22; anything else
 * (exponents, long mantissas) goes through Number().
 */
function parseNumber(bytes: Buffer, from: number, to: number): number {
  let i = from;
  let negative = false;
  if (bytes[i] === 45) {
    negative = true;
    i++;
  }
  if (i >= to) return Number.NaN;
  let mantissa = 0;
  let scale = -1;
  let digits = 0;
  for (; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (scale >= 0) scale++;
    } else if (c === 46 && scale < 0) {
      scale = 0;
    } else {
      return Number(bytes.toString("latin1", from, to));
    }
  }
  if (digits === 0) return Number.NaN;
  if (mantissa > Number.MAX_SAFE_INTEGER || scale > 22) return Number(bytes.toString("latin1", from, to));
  const value = scale > 0 ? mantissa / POW10[scale]! : mantissa;
  return negative ? -value : value;
}

/** Why a row is not a candle, in the schema's words. */
function candleRowProblem(values: CandleNumbers): string {
  const parsed = CandleNumbers.safeParse(values);
  if (parsed.success) return "the row does not satisfy the candle rules";
  return parsed.error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

/** Parses by hand from bytes (no CSV library): a 60k-row file takes a few milliseconds. */
export function readCandleColumns(path: string, range: TimeRange = {}): CandleColumns {
  return parseCandleColumns(readFileSync(path), path, range);
}

/**
 * The newlines from `pos` on (the lines after the header): a loop of its own, so V8 optimises it
 * once for every file instead of throwing the optimised code away at the loop's end each call.
 */
function linesAfter(bytes: Buffer, pos: number): number {
  const size = bytes.length;
  let rows = 0;
  for (let i = pos; i >= 0 && i < size; i = bytes.indexOf(10, i + 1)) rows++;
  return rows;
}

/** The columns of a candle file's bytes; `path` only names the file in errors. */
export function parseCandleColumns(bytes: Buffer, path: string, range: TimeRange = {}): CandleColumns {
  const size = bytes.length;
  let pos = bytes.indexOf(10);
  const header = bytes.toString("latin1", 0, pos < 0 ? size : pos).trim();
  if (header !== HEADER) {
    throw new CandleFileError(`${path}: first line must be "${HEADER}", got "${header.slice(0, 80)}"`);
  }
  const rows = linesAfter(bytes, pos);
  const cols: CandleColumns = emptySeries(rows);
  const targets = [cols.start, cols.open, cols.high, cols.low, cols.close, cols.volume];
  const from = range.from ?? Number.NEGATIVE_INFINITY;
  const to = range.to ?? Number.POSITIVE_INFINITY;
  let n = 0;
  let line = 1;
  let previous = Number.NEGATIVE_INFINITY;
  while (pos >= 0 && pos < size) {
    const lineStart = pos + 1;
    let lineEnd = bytes.indexOf(10, lineStart);
    if (lineEnd < 0) lineEnd = size;
    pos = lineEnd;
    line++;
    let end = lineEnd;
    if (end > lineStart && bytes[end - 1] === 13) end--;
    if (end <= lineStart) {
      // only the end of the file after its last newline may be empty: a blank line would drop a candle
      if (lineEnd >= size) continue;
      throw new CandleFileError(
        `${path}:${line}: blank line; remove it (each line after the header must be one candle: timestamp,open,high,low,close,volume)`,
      );
    }
    let fieldStart = lineStart;
    for (let f = 0; f < 6; f++) {
      let fieldEnd = fieldStart;
      if (f < 5) {
        while (fieldEnd < end && bytes[fieldEnd] !== 44) fieldEnd++;
        if (fieldEnd >= end) throw new CandleFileError(`${path}:${line}: expected 6 comma-separated fields`);
      } else {
        fieldEnd = end;
        for (let k = fieldStart; k < end; k++)
          if (bytes[k] === 44)
            throw new CandleFileError(`${path}:${line}: expected 6 comma-separated fields`);
      }
      const value = parseNumber(bytes, fieldStart, fieldEnd);
      if (!Number.isFinite(value)) {
        throw new CandleFileError(`${path}:${line}: field ${HEADER.split(",")[f]} is not a number`);
      }
      targets[f]![n] = value;
      fieldStart = fieldEnd + 1;
    }
    const start = cols.start[n]!;
    const open = cols.open[n]!;
    const high = cols.high[n]!;
    const low = cols.low[n]!;
    const close = cols.close[n]!;
    const volume = cols.volume[n]!;
    if (!isValidCandleNumbers(start, open, high, low, close, volume)) {
      const problem = candleRowProblem({ start, open, high, low, close, volume });
      const row = bytes.toString("latin1", lineStart, end).slice(0, 120);
      throw new CandleFileError(
        `${path}:${line}: not a valid candle (${problem}) in row "${row}"; fix or remove the row, no candle of this file is used until then`,
      );
    }
    if (start <= previous)
      throw new CandleFileError(`${path}:${line}: timestamps must be strictly ascending`);
    previous = start;
    if (start >= from && start < to) n++;
    else if (start >= to) break;
  }
  cols.length = n;
  if (n < rows) {
    for (const key of ["start", "open", "high", "low", "close", "volume"] as const)
      cols[key] = cols[key].slice(0, n);
  }
  return cols;
}

/** Candles of one file as domain Candles (source "replay", symbol mapped to the Coinbase product). */
export function readCandles(path: string, range: TimeRange = {}): Candle[] {
  const file = parseCandleFileName(path);
  return columnsToCandles(readCandleColumns(path, range), file.productId, file.granularity);
}

export function columnsToCandles(cols: CandleColumns, symbol: string, granularity: Granularity): Candle[] {
  const candles: Candle[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    candles[i] = {
      symbol,
      granularity,
      start: cols.start[i]!,
      open: cols.open[i]!,
      high: cols.high[i]!,
      low: cols.low[i]!,
      close: cols.close[i]!,
      volume: cols.volume[i]!,
      source: "replay",
    };
  }
  return candles;
}

/** Serves replay files through the same interface as the Coinbase market-data client. */
export class ReplayCandleSource implements CandleSource {
  private readonly files: CandleFile[];
  private readonly cache = new Map<string, CandleColumns>();

  constructor(dir: string) {
    this.files = listCandleFiles(dir);
  }

  availableProducts(granularity?: Granularity): string[] {
    return this.files.filter((f) => !granularity || f.granularity === granularity).map((f) => f.productId);
  }

  async getCandles(
    productId: string,
    granularity: Granularity,
    startSec: number,
    endSec: number,
  ): Promise<Candle[]> {
    const file = this.files.find((f) => f.productId === productId && f.granularity === granularity);
    if (!file) {
      throw new CandleFileError(
        `no replay file for ${productId} ${granularity} (${GRANULARITY_SECONDS[granularity]} s); available: ${this.files.map((f) => basename(f.path)).join(", ")}`,
      );
    }
    let cols = this.cache.get(file.path);
    if (!cols) {
      cols = readCandleColumns(file.path);
      this.cache.set(file.path, cols);
    }
    return columnCandlesBetween(cols, productId, granularity, startSec, endSec);
  }
}

/** The candles of `cols` (ascending starts) that open in [startSec, endSec), as domain Candles. */
export function columnCandlesBetween(
  cols: CandleColumns,
  symbol: string,
  granularity: Granularity,
  startSec: number,
  endSec: number,
): Candle[] {
  const lo = lowerBound(cols.start, cols.length, startSec);
  const hi = lowerBound(cols.start, cols.length, endSec);
  const slice: CandleColumns = {
    start: cols.start.subarray(lo, hi),
    open: cols.open.subarray(lo, hi),
    high: cols.high.subarray(lo, hi),
    low: cols.low.subarray(lo, hi),
    close: cols.close.subarray(lo, hi),
    volume: cols.volume.subarray(lo, hi),
    length: Math.max(0, hi - lo),
  };
  return columnsToCandles(slice, symbol, granularity);
}

/** The first index of sorted `values` (its first `length`) not under `target`: `length` when none. */
export function lowerBound(values: Float64Array, length: number, target: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
