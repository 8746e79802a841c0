/**
 * The value types every concept of the domain is built from: product ids, times, decimal amounts,
 * probabilities and the side of a trade.
 *
 * Conventions: prices and amounts that feed math (candles, features, risk) are JS numbers;
 * amounts that reach an exchange (sizes, prices, fees) are decimal strings, never floats.
 * Times are ISO-8601 UTC strings, except candle `start` (Unix seconds, as Coinbase sends it)
 * and TTL attributes (Unix seconds, as DynamoDB requires).
 */
import { z } from "zod";

export const ProductId = z
  .string()
  .regex(/^[A-Z0-9]{1,20}-[A-Z]{2,6}$/, "expected a product id such as BTC-USD (BASE-QUOTE, upper case)");
export type ProductId = z.infer<typeof ProductId>;

export const IsoTime = z.iso.datetime({ offset: false });
export const UnixSeconds = z.number().int().nonnegative();
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/, "expected a decimal string such as 100.25");
export type DecimalString = z.infer<typeof DecimalString>;
export const Probability = z.number().min(0).max(1);
export const FiniteNumber = z.number().finite();

export const Side = z.enum(["BUY", "SELL"]);
export type Side = z.infer<typeof Side>;
