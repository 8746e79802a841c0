import type { OhlcvSeries } from "#features/series.js";
import {
  CandleFileError,
  FILE_GRANULARITIES,
  listCandleFiles,
  readCandleColumns,
} from "#market-data/replay.js";

/**
 * The candle files of a folder for training and evaluation, read with the product's replay reader
 * (one CSV parser for the whole project). `granularity` is the file-name suffix ("1h"); symbols are
 * the file's own (e.g. BTC-USDT).
 */
export async function readCandleFolder(
  dir: string,
  granularity: string,
  symbols?: readonly string[],
): Promise<Array<{ symbol: string; series: OhlcvSeries }>> {
  const wanted = FILE_GRANULARITIES[granularity];
  if (!wanted)
    throw new Error(
      `unknown granularity "${granularity}"; use one of ${Object.keys(FILE_GRANULARITIES).join(", ")}`,
    );
  let files: ReturnType<typeof listCandleFiles>;
  try {
    files = listCandleFiles(dir).filter((f) => f.granularity === wanted);
  } catch (error) {
    if (error instanceof CandleFileError) throw error;
    throw new CandleFileError(
      `cannot list candle folder ${dir} (${(error as NodeJS.ErrnoException).code}); pass --candles <dir> with <BASE>-<QUOTE>_<granularity>.csv files`,
    );
  }
  if (symbols) {
    const missing = symbols.filter((s) => !files.some((f) => f.sourceSymbol === s));
    if (missing.length > 0)
      throw new CandleFileError(
        `no ${granularity} candle file in ${dir} for ${missing.join(", ")}; available: ${files.map((f) => f.sourceSymbol).join(", ")}`,
      );
    files = files.filter((f) => symbols.includes(f.sourceSymbol));
  }
  if (files.length === 0) throw new CandleFileError(`no *_${granularity}.csv candle files in ${dir}`);
  return files
    .sort((a, b) => a.sourceSymbol.localeCompare(b.sourceSymbol))
    .map((f) => ({ symbol: f.sourceSymbol, series: readCandleColumns(f.path) }));
}
