/**
 * The real 1h candles the bench runs on: the shared data set when it is checked out next to the
 * project, else the replay copy shipped in data/replay. All symbols are cut at a common newest
 * candle so one `now` finds every symbol fresh.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Granularity } from "#domain/schemas.js";
import { type CandleColumns, listCandleFiles, readCandleColumns } from "#market-data/replay.js";

export interface HourlySymbol {
  /** Coinbase product the file stands in for, e.g. BTC-USD */
  productId: string;
  columns: CandleColumns;
}

export interface HourlyCandles {
  dir: string;
  granularity: Granularity;
  symbols: HourlySymbol[];
  /** start of the newest candle every symbol has (Unix seconds) */
  commonLastStart: number;
}

export function locateCandleDir(projectRoot: string): string {
  const shared = resolve(projectRoot, "../shared/data/candles");
  if (existsSync(shared)) return shared;
  const replay = resolve(projectRoot, "data/replay");
  if (existsSync(replay)) return replay;
  throw new Error(
    `no candles for the bench: neither ${shared} nor ${replay} exists; check out the shared data set or restore data/replay`,
  );
}

/** Every ONE_HOUR file of `dir`, cut at the newest start all of them share, keeping the last `keep` candles. */
export function loadHourlyCandles(dir: string, keep = Number.POSITIVE_INFINITY): HourlyCandles {
  const files = listCandleFiles(dir).filter((f) => f.granularity === "ONE_HOUR");
  if (files.length === 0) throw new Error(`${dir} holds no *_1h.csv candle files`);
  const full = files.map((f) => ({ productId: f.productId, columns: readCandleColumns(f.path) }));
  const commonLastStart = Math.min(...full.map((s) => s.columns.start[s.columns.length - 1]!));
  const symbols = full.map(({ productId, columns }) => {
    const cut = cutAt(columns, commonLastStart);
    return { productId, columns: tail(cut, keep) };
  });
  return { dir, granularity: "ONE_HOUR", symbols, commonLastStart };
}

function cutAt(cols: CandleColumns, lastStart: number): CandleColumns {
  let end = cols.length;
  while (end > 0 && cols.start[end - 1]! > lastStart) end--;
  return slice(cols, 0, end);
}

function tail(cols: CandleColumns, keep: number): CandleColumns {
  return slice(cols, Math.max(0, cols.length - keep), cols.length);
}

function slice(cols: CandleColumns, from: number, to: number): CandleColumns {
  return {
    start: cols.start.subarray(from, to),
    open: cols.open.subarray(from, to),
    high: cols.high.subarray(from, to),
    low: cols.low.subarray(from, to),
    close: cols.close.subarray(from, to),
    volume: cols.volume.subarray(from, to),
    length: to - from,
  };
}
