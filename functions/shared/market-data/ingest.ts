/**
 * Market-data ingest: bring the candle store up to the last closed bucket for each symbol.
 * Works with any CandleSource (Coinbase, replay) and any CandleSink (DynamoDB, memory).
 */
import { Candle, GRANULARITY_SECONDS, type Granularity } from "#domain/schemas.js";
import { type CandleGap, detectGaps } from "./gaps.js";

export interface CandleSource {
  /** candles with open time in [startSec, endSec), ascending */
  getCandles(
    productId: string,
    granularity: Granularity,
    startSec: number,
    endSec: number,
  ): Promise<Candle[]>;
}

/** Writes must be idempotent: rows are keyed by symbol + granularity + start (PutItem). */
export interface CandleSink {
  putCandles(candles: Candle[]): Promise<{ written: number }>;
  latestCandleStart(symbol: string, granularity: Granularity): Promise<number | undefined>;
}

export interface IngestOptions {
  source: CandleSource;
  sink: CandleSink;
  symbols: readonly string[];
  granularity: Granularity;
  /** buckets to fetch when the store has nothing for a symbol; default 300 */
  backfillBuckets?: number;
  /** never fetch more than this many buckets in one run (a long outage catches up over several runs); default 5000 */
  maxBucketsPerRun?: number;
  /** default Date.now */
  nowMs?: () => number;
}

export type SymbolIngestReport =
  | {
      symbol: string;
      ok: true;
      /** requested window, Unix seconds, [from, to) */
      from: number;
      to: number;
      fetched: number;
      written: number;
      gaps: CandleGap[];
    }
  | { symbol: string; ok: false; fetched: 0; written: 0; gaps: []; error: string };

export async function ingestCandles(options: IngestOptions): Promise<SymbolIngestReport[]> {
  const step = GRANULARITY_SECONDS[options.granularity];
  const nowSec = Math.floor((options.nowMs ?? Date.now)() / 1000);
  // the bucket containing "now" is still open: stop right before it
  const to = Math.floor(nowSec / step) * step;
  const reports: SymbolIngestReport[] = [];
  for (const symbol of options.symbols) {
    try {
      reports.push(await ingestSymbol(options, symbol, step, to));
    } catch (error) {
      reports.push({
        symbol,
        ok: false,
        fetched: 0,
        written: 0,
        gaps: [],
        error: `${symbol} ${options.granularity}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return reports;
}

async function ingestSymbol(
  options: IngestOptions,
  symbol: string,
  step: number,
  to: number,
): Promise<SymbolIngestReport> {
  const latest = await options.sink.latestCandleStart(symbol, options.granularity);
  const backfill = options.backfillBuckets ?? 300;
  let from = latest === undefined ? to - backfill * step : latest + step;
  from = Math.max(from, to - (options.maxBucketsPerRun ?? 5000) * step);
  if (from >= to) return { symbol, ok: true, from, to, fetched: 0, written: 0, gaps: [] };

  const fetched = (await options.source.getCandles(symbol, options.granularity, from, to)).filter(
    (c) => c.start >= from && c.start < to,
  );
  const candles = validCandles(fetched, symbol, options.granularity);
  const { written } = candles.length > 0 ? await options.sink.putCandles(candles) : { written: 0 };
  // buckets after the newest fetched candle may still arrive, so only gaps before it are reported
  const starts = candles.map((c) => c.start);
  if (latest !== undefined) starts.unshift(latest);
  return { symbol, ok: true, from, to, fetched: candles.length, written, gaps: detectGaps(starts, step) };
}

/**
 * Every candle a source hands over passes the Candle schema and belongs to the series asked for,
 * before anything is written: the first bad one fails this symbol's run (nothing of it is stored)
 * with the candle and the rule it breaks; the other symbols go on.
 */
function validCandles(candles: readonly Candle[], symbol: string, granularity: Granularity): Candle[] {
  return candles.map((candle) => {
    const parsed = Candle.safeParse(candle);
    const start = (candle as { start?: unknown }).start;
    const at =
      typeof start === "number" && Number.isFinite(start) ? new Date(start * 1000).toISOString() : "?";
    const which = `candle start=${String(start)} (${at})`;
    if (!parsed.success) {
      throw new Error(
        `${which} from the source is invalid, nothing was stored for this symbol: ${parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ")}`,
      );
    }
    if (parsed.data.symbol !== symbol || parsed.data.granularity !== granularity) {
      throw new Error(
        `${which} from the source is for ${parsed.data.symbol} ${parsed.data.granularity}, not the series asked for; nothing was stored for this symbol`,
      );
    }
    return parsed.data;
  });
}
