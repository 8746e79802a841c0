import { basename, join } from "node:path";
import { type OhlcvSeries, sliceSeries } from "#features/index.js";
import { listCandleFiles, readCandleColumns } from "#market-data/replay.js";
import { SHARED_CANDLES } from "#test/support/paths.js";

export const CANDLE_DIR = SHARED_CANDLES;

export function hourlyFiles(): string[] {
  return listCandleFiles(CANDLE_DIR)
    .filter((f) => f.granularity === "ONE_HOUR")
    .map((f) => basename(f.path));
}

/** The last `rows` candles of a file (all of them when rows is omitted), through the product's replay reader. */
export function readSeries(file: string, rows?: number): OhlcvSeries {
  const all = readCandleColumns(join(CANDLE_DIR, file));
  return rows === undefined ? all : sliceSeries(all, Math.max(0, all.length - rows));
}

/** Relative closeness 1e-9, with an absolute floor of 1e-12 for values that cross zero (all features are scale-free). */
export function relativeError(actual: number, expected: number): number {
  const scale = Math.max(Math.abs(actual), Math.abs(expected));
  return Math.abs(actual - expected) / Math.max(scale, 1e-3);
}
