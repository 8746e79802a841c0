import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OhlcvSeries } from "../../functions/shared/features/series.js";

const FILE_PATTERN = /^([A-Z0-9]+-[A-Z0-9]+)_([0-9]+[mhd])\.csv$/;
const HEADER = "timestamp,open,high,low,close,volume";

export interface CandleFile {
  symbol: string;
  granularity: string;
  path: string;
}

/** The `<BASE>-<QUOTE>_<granularity>.csv` files of a folder for one granularity, sorted by symbol. */
export async function listCandleFiles(dir: string, granularity: string): Promise<CandleFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new Error(
      `cannot list candle folder ${dir} (${(error as NodeJS.ErrnoException).code}); pass --candles <dir> with <BASE>-<QUOTE>_<granularity>.csv files`,
    );
  }
  const files: CandleFile[] = [];
  for (const name of names) {
    const m = FILE_PATTERN.exec(name);
    if (m && m[2] === granularity) files.push({ symbol: m[1], granularity: m[2], path: join(dir, name) });
  }
  return files.sort((a, b) => a.symbol.localeCompare(b.symbol));
}

/** Parses timestamp,open,high,low,close,volume (timestamp = candle open, Unix seconds, ascending). */
export function parseCandleCsv(text: string, source: string): OhlcvSeries {
  const lines = text.split("\n");
  if (lines[0].trim() !== HEADER) {
    throw new Error(`${source}: expected header "${HEADER}", got "${lines[0].trim()}"`);
  }
  let n = 0;
  for (let i = 1; i < lines.length; i++) if (lines[i].trim() !== "") n++;
  const s: OhlcvSeries = {
    start: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    length: n,
  };
  let r = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const f = line.split(",");
    const values = f.map(Number);
    if (f.length !== 6 || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`${source}:${i + 1}: expected 6 numeric fields, got "${line}"`);
    }
    if (r > 0 && !(values[0] > s.start[r - 1])) {
      throw new Error(
        `${source}:${i + 1}: timestamp ${values[0]} is not after ${s.start[r - 1]}; rows must ascend`,
      );
    }
    s.start[r] = values[0];
    s.open[r] = values[1];
    s.high[r] = values[2];
    s.low[r] = values[3];
    s.close[r] = values[4];
    s.volume[r] = values[5];
    r++;
  }
  return s;
}

export async function readCandleFolder(
  dir: string,
  granularity: string,
  symbols?: readonly string[],
): Promise<Array<{ symbol: string; series: OhlcvSeries }>> {
  let files = await listCandleFiles(dir, granularity);
  if (symbols) {
    const missing = symbols.filter((s) => !files.some((f) => f.symbol === s));
    if (missing.length > 0)
      throw new Error(`no ${granularity} candle file in ${dir} for ${missing.join(", ")}`);
    files = files.filter((f) => symbols.includes(f.symbol));
  }
  if (files.length === 0) throw new Error(`no *_${granularity}.csv candle files in ${dir}`);
  return Promise.all(
    files.map(async (f) => ({
      symbol: f.symbol,
      series: parseCandleCsv(await readFile(f.path, "utf8"), f.path),
    })),
  );
}
