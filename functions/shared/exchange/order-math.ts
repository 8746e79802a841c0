/**
 * Decimal arithmetic for order sizes and prices. Coinbase rejects (never rounds) sizes that are
 * not multiples of the increment, so sizes are floored here before they are sent.
 */
import { Decimal } from "decimal.js";
import type { ProductRules } from "./exchange.js";
import {
  ceilPlain,
  comparePlain,
  compareUnits,
  floorPlain,
  isZeroPlain,
  multiplyPlain,
  PLAIN,
  plainTextOf,
  unitsOf,
} from "./plain-decimal.js";

function decimalOf(value: string, what: string): Decimal {
  let parsed: Decimal;
  try {
    parsed = new Decimal(value);
  } catch {
    throw new RangeError(`${what} must be a decimal string such as "0.001", got ${JSON.stringify(value)}`);
  }
  if (!parsed.isFinite()) throw new RangeError(`${what} must be finite, got ${JSON.stringify(value)}`);
  return parsed;
}

/**
 * A product rule's number (an increment, a minimum), parsed once: a handful of strings that every
 * order repeats (the backtest checks thousands of orders against them).
 */
const ruleNumbers = new Map<string, Decimal>();
function ruleNumber(value: string, what: string): Decimal {
  let parsed = ruleNumbers.get(value);
  if (parsed === undefined) {
    parsed = decimalOf(value, what);
    if (ruleNumbers.size < 10_000) ruleNumbers.set(value, parsed);
  }
  return parsed;
}

function positiveIncrement(increment: string): Decimal {
  const inc = ruleNumber(increment, "increment");
  if (inc.lte(0)) throw new RangeError(`increment must be positive, got ${increment}`);
  return inc;
}

/**
 * decimal.js rounds a product to 20 significant digits by default: base x limit has more as soon
 * as both carry many digits, and a value exactly at a limit would read as over it.
 */
const ExactProduct = Decimal.clone({ precision: 200 });

/** Fixed-point string with exactly the increment's number of decimals. */
function format(value: Decimal, increment: Decimal): string {
  return value.toFixed(Math.max(0, increment.decimalPlaces()));
}

/**
 * The decimals of an increment that is a power of ten (0.01 → 2, 1 → 0), or -1 for any other.
 * Nearly every product's increments are; on them flooring and the multiple check are exact cuts of
 * the digits, with no division (the backtest checks thousands of orders).
 */
const tenthPlaces = new Map<string, number>();
export function powerOfTenPlaces(increment: string): number {
  let places = tenthPlaces.get(increment);
  if (places === undefined) {
    const inc = positiveIncrement(increment);
    const dp = inc.decimalPlaces();
    places = inc.equals(new Decimal(10).pow(-dp)) ? dp : -1;
    if (tenthPlaces.size < 10_000) tenthPlaces.set(increment, places);
  }
  return places;
}

/** Largest multiple of `increment` that is <= value (for value >= 0). */
export function floorToIncrement(value: string, increment: string): string {
  const places = powerOfTenPlaces(increment);
  // floor of a non-negative number to `places` decimals: keep those digits, drop the rest
  if (places >= 0 && PLAIN.test(value)) return floorPlain(value, places);
  const inc = positiveIncrement(increment);
  const v = decimalOf(value, "size");
  return format(v.div(inc).floor().mul(inc), inc);
}

/**
 * Round a limit or stop price onto the price grid: down for BUY (never pay more), up for SELL. For
 * a stop this triggers it a grid step early rather than late, on either side.
 */
export function roundPriceToIncrement(
  price: string,
  increment: string,
  side: "BUY" | "SELL",
  what = "limit price",
): string {
  const places = powerOfTenPlaces(increment);
  if (places >= 0 && PLAIN.test(price))
    return side === "BUY" ? floorPlain(price, places) : ceilPlain(price, places);
  const inc = positiveIncrement(increment);
  const p = decimalOf(price, what);
  const steps = p.div(inc);
  return format((side === "BUY" ? steps.floor() : steps.ceil()).mul(inc), inc);
}

export function isMultipleOf(value: string, increment: string): boolean {
  const places = powerOfTenPlaces(increment);
  if (places >= 0 && PLAIN.test(value)) {
    const dot = value.indexOf(".");
    return dot < 0 || /^0*$/.test(value.slice(dot + 1 + places));
  }
  return decimalOf(value, "value").mod(positiveIncrement(increment)).isZero();
}

export type SizeViolation =
  | "SIZE_NOT_POSITIVE"
  | "BASE_SIZE_TOO_SMALL"
  | "BASE_SIZE_TOO_LARGE"
  | "QUOTE_SIZE_TOO_SMALL"
  | "QUOTE_SIZE_TOO_LARGE"
  | "INVALID_SIZE_PRECISION"
  | "INVALID_PRICE_PRECISION"
  | "STOP_PRICE_NOT_POSITIVE"
  | "INVALID_STOP_PRICE_PRECISION";

export interface SizeCheck {
  ok: boolean;
  violation?: SizeViolation;
  message?: string;
}

type SizedOrder = { baseSize?: string; quoteSize?: string; limitPrice?: string; stopPrice?: string };

/**
 * Checks an already-floored order against the product's limits. `notional` is the quote value
 * for limit orders (base x price); market orders by quote pass quoteSize.
 */
export function checkOrderSize(rules: ProductRules, order: SizedOrder): SizeCheck {
  // nearly every order is plain text inside every limit: that is decided on the digits; anything
  // else (a limit broken, or text that is not plain) gets the decimal checks and their messages
  if (passesOnPlainText(rules, order)) return { ok: true };
  return checkOrderSizeExactly(rules, order);
}

/** The size checks on plain text: true only when every check passes (false: not decided here). */
function passesOnPlainText(rules: ProductRules, order: SizedOrder): boolean {
  const { baseSize, quoteSize, limitPrice, stopPrice } = order;
  if (baseSize !== undefined) {
    if (!PLAIN.test(baseSize) || isZeroPlain(baseSize) || !isMultipleOf(baseSize, rules.baseIncrement))
      return false;
    if (!PLAIN.test(rules.baseMinSize) || !PLAIN.test(rules.baseMaxSize)) return false;
    if (comparePlain(baseSize, rules.baseMinSize) < 0 || comparePlain(baseSize, rules.baseMaxSize) > 0)
      return false;
  }
  if (limitPrice !== undefined && !(PLAIN.test(limitPrice) && isMultipleOf(limitPrice, rules.priceIncrement)))
    return false;
  if (
    stopPrice !== undefined &&
    !(PLAIN.test(stopPrice) && !isZeroPlain(stopPrice) && isMultipleOf(stopPrice, rules.priceIncrement))
  )
    return false;
  const quoteMin = rules.quoteMinSize;
  const quoteMax = rules.quoteMaxSize;
  if (quoteSize !== undefined) {
    if (!PLAIN.test(quoteSize) || isZeroPlain(quoteSize) || !isMultipleOf(quoteSize, rules.quoteIncrement))
      return false;
    if (!PLAIN.test(quoteMin) || !PLAIN.test(quoteMax)) return false;
    return comparePlain(quoteSize, quoteMin) >= 0 && comparePlain(quoteSize, quoteMax) <= 0;
  }
  if (baseSize === undefined || limitPrice === undefined) return true;
  if (!PLAIN.test(quoteMin) || !PLAIN.test(quoteMax)) return false;
  // the value base x limit: in doubles when it is clearly inside the limits (their error is below
  // 1e-15 of the value, the margin 1e-9), else exactly
  const approximate = Number(baseSize) * Number(limitPrice);
  if (approximate > Number(quoteMin) * (1 + 1e-9) && approximate < Number(quoteMax) * (1 - 1e-9)) return true;
  const notional = multiplyPlain(baseSize, limitPrice);
  return (
    notional.units !== 0n &&
    compareUnits(notional, unitsOf(quoteMin)) >= 0 &&
    compareUnits(notional, unitsOf(quoteMax)) <= 0
  );
}

/** checkOrderSize in decimal.js, check by check: the definition, with the message of the first limit broken. */
export function checkOrderSizeExactly(rules: ProductRules, order: SizedOrder): SizeCheck {
  const fail = (violation: SizeViolation, message: string): SizeCheck => ({ ok: false, violation, message });
  if (order.baseSize !== undefined) {
    const base = decimalOf(order.baseSize, "base size");
    if (base.lte(0)) return fail("SIZE_NOT_POSITIVE", `base size ${order.baseSize} must be positive`);
    if (!isMultipleOf(order.baseSize, rules.baseIncrement))
      return fail(
        "INVALID_SIZE_PRECISION",
        `base size ${order.baseSize} is not a multiple of ${rules.productId} base_increment ${rules.baseIncrement}`,
      );
    if (base.lt(ruleNumber(rules.baseMinSize, "base_min_size")))
      return fail(
        "BASE_SIZE_TOO_SMALL",
        `base size ${order.baseSize} is below ${rules.productId} base_min_size ${rules.baseMinSize}`,
      );
    if (base.gt(ruleNumber(rules.baseMaxSize, "base_max_size")))
      return fail(
        "BASE_SIZE_TOO_LARGE",
        `base size ${order.baseSize} is above ${rules.productId} base_max_size ${rules.baseMaxSize}`,
      );
  }
  if (order.limitPrice !== undefined && !isMultipleOf(order.limitPrice, rules.priceIncrement))
    return fail(
      "INVALID_PRICE_PRECISION",
      `limit price ${order.limitPrice} is not a multiple of ${rules.productId} price_increment ${rules.priceIncrement}`,
    );
  if (order.stopPrice !== undefined) {
    if (decimalOf(order.stopPrice, "stop price").lte(0))
      return fail("STOP_PRICE_NOT_POSITIVE", `stop price ${order.stopPrice} must be positive`);
    if (!isMultipleOf(order.stopPrice, rules.priceIncrement))
      return fail(
        "INVALID_STOP_PRICE_PRECISION",
        `stop price ${order.stopPrice} is not a multiple of ${rules.productId} price_increment ${rules.priceIncrement}`,
      );
  }
  const notional =
    order.quoteSize !== undefined
      ? decimalOf(order.quoteSize, "quote size")
      : order.baseSize !== undefined && order.limitPrice !== undefined
        ? new ExactProduct(order.baseSize).mul(order.limitPrice)
        : undefined;
  if (notional !== undefined) {
    if (notional.lte(0))
      return fail("SIZE_NOT_POSITIVE", `order value ${notional.toString()} must be positive`);
    if (order.quoteSize !== undefined && !isMultipleOf(order.quoteSize, rules.quoteIncrement))
      return fail(
        "INVALID_SIZE_PRECISION",
        `quote size ${order.quoteSize} is not a multiple of ${rules.productId} quote_increment ${rules.quoteIncrement}`,
      );
    if (notional.lt(ruleNumber(rules.quoteMinSize, "quote_min_size")))
      return fail(
        "QUOTE_SIZE_TOO_SMALL",
        `order value ${notional.toString()} is below ${rules.productId} quote_min_size ${rules.quoteMinSize}`,
      );
    if (notional.gt(ruleNumber(rules.quoteMaxSize, "quote_max_size")))
      return fail(
        "QUOTE_SIZE_TOO_LARGE",
        `order value ${notional.toString()} is above ${rules.productId} quote_max_size ${rules.quoteMaxSize}`,
      );
  }
  return { ok: true };
}

/**
 * -1, 0 or 1 as two decimals compare, exactly: plain text (and a number whose text is plain) by
 * its digits, anything else by decimal.js (which throws on text that is no number).
 */
export function compareDecimals(a: string | number, b: string | number): number {
  const x = typeof a === "number" ? plainTextOf(a) : PLAIN.test(a) ? a : undefined;
  const y = typeof b === "number" ? plainTextOf(b) : PLAIN.test(b) ? b : undefined;
  if (x !== undefined && y !== undefined) return comparePlain(x, y);
  return new Decimal(a).cmp(b);
}

/** A number as decimal text, as `new Decimal(n).toFixed()` writes it (no exponent). */
export function decimalTextOf(n: number): string {
  return plainTextOf(n) ?? new Decimal(n).toFixed();
}

/** Does `available` of a currency cover `required`? */
export function hasSufficientBalance(available: string | undefined, required: string): boolean {
  return new Decimal(available ?? "0").gte(required);
}

/** Quote currency needed for an order (before fees): quote size, or base x price. */
export function quoteRequired(order: { quoteSize?: string; baseSize?: string }, price: string): string {
  if (order.quoteSize !== undefined) return new Decimal(order.quoteSize).toString();
  return new Decimal(order.baseSize ?? "0").mul(price).toString();
}
