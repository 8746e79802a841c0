/** Market data: the products, the candle granularities and the candles themselves. */
import { z } from "zod";
import { FiniteNumber, ProductId, UnixSeconds } from "./primitives.js";

export const Granularity = z.enum([
  "ONE_MINUTE",
  "FIVE_MINUTE",
  "FIFTEEN_MINUTE",
  "THIRTY_MINUTE",
  "ONE_HOUR",
  "TWO_HOUR",
  "FOUR_HOUR",
  "SIX_HOUR",
  "ONE_DAY",
]);
export type Granularity = z.infer<typeof Granularity>;

export const GRANULARITY_SECONDS: Record<Granularity, number> = {
  ONE_MINUTE: 60,
  FIVE_MINUTE: 300,
  FIFTEEN_MINUTE: 900,
  THIRTY_MINUTE: 1800,
  ONE_HOUR: 3600,
  TWO_HOUR: 7200,
  FOUR_HOUR: 14400,
  SIX_HOUR: 21600,
  ONE_DAY: 86400,
};

export const DataSource = z.enum(["coinbase", "replay"]);
export type DataSource = z.infer<typeof DataSource>;

const candleNumbers = {
  /** bucket open time, Unix seconds */
  start: UnixSeconds,
  open: FiniteNumber.positive(),
  high: FiniteNumber.positive(),
  low: FiniteNumber.positive(),
  close: FiniteNumber.positive(),
  volume: FiniteNumber.nonnegative(),
};
const bracketsOpenAndClose = (c: { open: number; high: number; low: number; close: number }) =>
  c.high >= c.low && c.high >= Math.max(c.open, c.close) && c.low <= Math.min(c.open, c.close);
const BRACKET_MESSAGE = "candle high/low must bracket open and close";

export const Candle = z
  .object({ symbol: ProductId, granularity: Granularity, ...candleNumbers, source: DataSource })
  .refine(bracketsOpenAndClose, { message: BRACKET_MESSAGE });
export type Candle = z.infer<typeof Candle>;

/** The numbers of one candle, the same rules as Candle: what one row of a candle file carries. */
export const CandleNumbers = z
  .object(candleNumbers)
  .refine(bracketsOpenAndClose, { message: BRACKET_MESSAGE });
export type CandleNumbers = z.infer<typeof CandleNumbers>;

/**
 * The rules of CandleNumbers (whole non-negative timestamp, finite positive prices, high/low
 * bracketing open and close, volume >= 0) as one fast test, for hot loops (the CSV parser, the
 * signal window); the schema words the problem when a row fails. A property test holds them equal.
 */
export function isValidCandleNumbers(
  start: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): boolean {
  return (
    Number.isSafeInteger(start) &&
    start >= 0 &&
    Number.isFinite(high) &&
    Number.isFinite(volume) &&
    open > 0 &&
    close > 0 &&
    low > 0 &&
    volume >= 0 &&
    high >= low &&
    high >= (open > close ? open : close) &&
    low <= (open < close ? open : close)
  );
}
