/**
 * How the HTML report writes numbers: money in cents, prices and sizes at the product's increments
 * (the same Coinbase rules the replay filled on), times to the minute in UTC. No float noise such as
 * 231.17000000000002 reaches the page.
 */
import { bundledProductRules } from "#coinbase/product-rules.js";

/** Decimals of a Coinbase increment string: "0.01" → 2, "0.00000001" → 8, "1" → 0, "0.0100" → 2. */
export function decimalsOf(increment: string): number {
  if (!/^\d+(\.\d+)?$/.test(increment)) {
    throw new Error(`increment "${increment}" is not a plain decimal string (Coinbase writes e.g. "0.01")`);
  }
  const fraction = increment.split(".")[1] ?? "";
  return fraction.replace(/0+$/, "").length;
}

export interface SymbolFormat {
  /** decimals of the product's price increment */
  priceDecimals: number;
  /** the price increment as a number (the price axis's smallest step) */
  priceStep: number;
  /** decimals of the product's base increment */
  sizeDecimals: number;
}

/** The product's increments, from the bundled rules the backtest filled on. */
export function symbolFormat(productId: string): SymbolFormat {
  const rules = bundledProductRules(productId);
  return {
    priceDecimals: decimalsOf(rules.priceIncrement),
    priceStep: Number(rules.priceIncrement),
    sizeDecimals: decimalsOf(rules.baseIncrement),
  };
}

const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const signedDollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  signDisplay: "exceptZero",
});

/** $10,136.52 (rounded to the cent) */
export function usd(x: number): string {
  return dollars.format(x);
}

/** +$15.20, -$11.46, $0.00 */
export function signedUsd(x: number): string {
  return signedDollars.format(x);
}

/** a price or size at a fixed number of decimals, thousands grouped: 64,012.35 */
export function fixed(x: number, decimals: number): string {
  return x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** 2024-03-15T21:01:00.000Z → 2024-03-15 21:01 (UTC) */
export function minuteUtc(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  if (!m) throw new Error(`time "${iso}" is not an ISO timestamp`);
  return `${m[1]} ${m[2]}`;
}
