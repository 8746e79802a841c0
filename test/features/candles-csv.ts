import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { OhlcvSeries } from "../../functions/shared/features/index.js";
import { SHARED_CANDLES } from "../support/paths.js";

/** Test-only reader of the development candle CSVs (timestamp,open,high,low,close,volume). */
export const CANDLE_DIR = SHARED_CANDLES;

export function hourlyFiles(): string[] {
  return readdirSync(CANDLE_DIR)
    .filter((f) => f.endsWith("_1h.csv"))
    .sort();
}

/** The last `rows` candles of a file (all of them when rows is omitted). */
export function readSeries(file: string, rows?: number): OhlcvSeries {
  const lines = readFileSync(join(CANDLE_DIR, file), "utf8").trim().split("\n");
  const body = lines.slice(1);
  const picked = rows === undefined ? body : body.slice(Math.max(0, body.length - rows));
  const n = picked.length;
  const series: OhlcvSeries = {
    start: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    length: n,
  };
  for (let i = 0; i < n; i++) {
    const p = picked[i].split(",");
    series.start[i] = Number(p[0]);
    series.open[i] = Number(p[1]);
    series.high[i] = Number(p[2]);
    series.low[i] = Number(p[3]);
    series.close[i] = Number(p[4]);
    series.volume[i] = Number(p[5]);
  }
  return series;
}

/** Relative closeness 1e-9, with an absolute floor of 1e-12 for values that cross zero (all features are scale-free). */
export function relativeError(actual: number, expected: number): number {
  const scale = Math.max(Math.abs(actual), Math.abs(expected));
  return Math.abs(actual - expected) / Math.max(scale, 1e-3);
}
