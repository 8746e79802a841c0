/**
 * How a simulated order fills: the one model shared by the paper exchange and the backtester.
 * Pure functions, no I/O.
 *
 * Market orders (taker):
 *   price  = reference x (1 + (slippageBps + impactBps) / 1e4) for BUY, x (1 - ...) for SELL, then
 *            moved onto the product's price grid against the taker (BUY up, SELL down).
 *   impactBps = min(maxImpactBps, impactCoefficient x participation%), where participation% is
 *            the order's base size as a percentage of the candle's base volume: with coefficient
 *            10, taking 1% of the candle's volume costs 10 bps. No candle volume given: no impact;
 *            a candle with zero volume: the cap (nobody was there to trade with).
 *   fee    = quoteValue x takerFeeBps / 1e4, in quote currency, unrounded (Coinbase reports fees
 *            with more decimals than the quote increment).
 *   BUY by quoteSize, like Coinbase's size_inclusive_of_fees: the quote spent including the fee
 *            targets quoteSize; base = floor(quoteSize / (1 + fee rate) / price, base_increment).
 *            Flooring leaves less than one base increment's worth unspent, so
 *            totalQuote = quoteValue + fee <= quoteSize, and the fee is exactly the rate on what
 *            was bought.
 *   BUY by baseSize: totalQuote = quoteValue + fee (spent). SELL by baseSize (or by quoteSize,
 *            base = floor(quoteSize / price)): totalQuote = quoteValue - fee (received).
 * Resting limit orders (maker): fill when the market crosses the limit, at the limit price, with
 *   the maker fee. Coinbase defaults: taker 60 bps, maker 40 bps (the lowest volume tier).
 * Resting stop-limit orders (stopLimitOutcome): a SELL triggers when the low reaches its stop and
 *   trades at the stop, or at the open when the market opened below the stop (a gap), as taker,
 *   but never below its limit: a gap through the limit leaves it triggered, resting at the limit
 *   as a limit order. A BUY mirrors it. No slippage is added beyond the gap.
 *
 * Decimal strings in, decimal strings out for anything that reaches a venue; the `*Numbers`
 * variants do the same math on doubles for the backtester's inner loop.
 */
import { Decimal } from "decimal.js";
import type { Side } from "#domain/schemas.js";
import type { ProductRules } from "./exchange.js";

export const COINBASE_TAKER_FEE_BPS = 60;
export const COINBASE_MAKER_FEE_BPS = 40;
/** Impact stops growing here: beyond it the order would walk the book in ways one candle cannot tell. */
export const DEFAULT_MAX_IMPACT_BPS = 200;

/** Enough digits that no balance, value or fee of the pipeline is ever rounded. */
const Exact = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN, toExpNeg: -60, toExpPos: 60 });
type Exact = Decimal;

export type FillRules = Pick<ProductRules, "baseIncrement" | "priceIncrement">;

export interface MarketFillInput {
  side: Side;
  /** exactly one of quoteSize / baseSize */
  quoteSize?: string;
  baseSize?: string;
  /** the price the taker crosses to: best ask for BUY, best bid for SELL (or a candle close) */
  referencePrice: string | number;
  /** base volume of the candle the order trades in; drives market impact */
  candleVolumeBase?: number;
  slippageBps: number;
  /** bps of impact per 1% of the candle's base volume taken */
  impactCoefficient: number;
  maxImpactBps?: number;
  takerFeeBps: number;
  rules: FillRules;
}

export interface MarketFill {
  averagePrice: string;
  baseSize: string;
  /** base x price, excluding fees */
  quoteValue: string;
  fee: string;
  /** BUY: quote spent (value + fee); SELL: quote received (value - fee) */
  totalQuote: string;
  /** total adverse move applied to the reference: slippage + impact */
  slippageBps: number;
  impactBps: number;
}

export interface MarketFillNumbers {
  averagePrice: number;
  baseSize: number;
  quoteValue: number;
  fee: number;
  totalQuote: number;
  slippageBps: number;
  impactBps: number;
}

function requireNonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${what} must be a finite number >= 0, got ${value}`);
}

function checkInput(input: MarketFillInput): void {
  if ((input.quoteSize === undefined) === (input.baseSize === undefined))
    throw new RangeError("a market fill needs exactly one of quoteSize or baseSize");
  requireNonNegative(input.slippageBps, "slippageBps");
  requireNonNegative(input.impactCoefficient, "impactCoefficient");
  requireNonNegative(input.takerFeeBps, "takerFeeBps");
  requireNonNegative(input.maxImpactBps ?? DEFAULT_MAX_IMPACT_BPS, "maxImpactBps");
  const reference = Number(input.referencePrice);
  if (!Number.isFinite(reference) || reference <= 0)
    throw new RangeError(`referencePrice must be a positive price, got ${input.referencePrice}`);
}

/** Market impact in bps; the same double arithmetic for both variants so they agree exactly. */
export function impactBpsFor(
  estimatedBase: number,
  candleVolumeBase: number | undefined,
  impactCoefficient: number,
  maxImpactBps = DEFAULT_MAX_IMPACT_BPS,
): number {
  if (candleVolumeBase === undefined || impactCoefficient === 0 || estimatedBase <= 0) return 0;
  if (!(candleVolumeBase > 0)) return maxImpactBps;
  return Math.min(maxImpactBps, impactCoefficient * ((estimatedBase / candleVolumeBase) * 100));
}

function adverseBps(input: MarketFillInput): { impactBps: number; totalBps: number } {
  const reference = Number(input.referencePrice);
  const estimatedBase =
    input.baseSize !== undefined ? Number(input.baseSize) : Number(input.quoteSize) / reference;
  const impactBps = impactBpsFor(
    estimatedBase,
    input.candleVolumeBase,
    input.impactCoefficient,
    input.maxImpactBps,
  );
  const totalBps = input.slippageBps + impactBps;
  if (input.side === "SELL" && totalBps >= 10_000)
    throw new RangeError(`slippage + impact of ${totalBps} bps would make the SELL price non-positive`);
  return { impactBps, totalBps };
}

function floorTo(value: Exact, increment: Exact): Exact {
  return value.div(increment).floor().mul(increment);
}

/** Decimal market fill: what reaches the paper venue's books. */
export function marketFill(input: MarketFillInput): MarketFill {
  checkInput(input);
  const { impactBps, totalBps } = adverseBps(input);
  const direction = input.side === "BUY" ? 1 : -1;
  const priceInc = new Exact(input.rules.priceIncrement);
  const baseInc = new Exact(input.rules.baseIncrement);
  const raw = new Exact(input.referencePrice).mul(new Exact(totalBps).mul(direction).div(10_000).plus(1));
  const steps = raw.div(priceInc);
  let price = (input.side === "BUY" ? steps.ceil() : steps.floor()).mul(priceInc);
  if (price.lte(0)) price = priceInc;
  const feeRate = new Exact(input.takerFeeBps).div(10_000);

  let base: Exact;
  if (input.baseSize !== undefined) base = floorTo(new Exact(input.baseSize), baseInc);
  else if (input.side === "BUY")
    base = floorTo(new Exact(input.quoteSize!).div(feeRate.plus(1)).div(price), baseInc);
  else base = floorTo(new Exact(input.quoteSize!).div(price), baseInc);

  const value = base.mul(price);
  const fee = value.mul(feeRate);
  const total = input.side === "BUY" ? value.plus(fee) : value.minus(fee);
  return {
    averagePrice: price.toFixed(),
    baseSize: base.toFixed(),
    quoteValue: value.toFixed(),
    fee: fee.toFixed(),
    totalQuote: total.toFixed(),
    slippageBps: totalBps,
    impactBps,
  };
}

/**
 * A step count this close to a whole number is taken to be on it: the few roundings of a double
 * computation (~1e-16 relative each), not a real distance from the grid.
 */
function snapToInteger(steps: number): number {
  const nearest = Math.round(steps);
  return Math.abs(steps - nearest) <= Math.max(1e-9, Math.abs(steps) * 1e-14) ? nearest : steps;
}

/**
 * Whole grid steps as an integer count times the increment, as the decimal variant computes them:
 * the double nearest the decimal value (0.20449203, not 0.20449202999999998).
 */
export function onGridNumbers(steps: number, increment: number, up: boolean): number {
  const snapped = snapToInteger(steps);
  return gridPrice(up ? Math.ceil(snapped) : Math.floor(snapped), increment);
}
const onGrid = onGridNumbers;

/**
 * A quoted price onto the product's price grid: the best bid rounded down, the ask up, written with
 * the increment's decimals ("483.25"). The paper venue quotes with it; quoteOnGridNumbers is the same
 * rule in doubles for the backtester.
 */
export function quoteOnGrid(price: number, priceIncrement: string, up: boolean): string {
  const inc = new Decimal(priceIncrement);
  const steps = new Decimal(price).div(inc);
  return (up ? steps.ceil() : steps.floor()).mul(inc).toFixed(Math.max(0, inc.decimalPlaces()));
}

/**
 * A quoted price put onto the product's price grid as the paper venue quotes its best bid (down) and
 * ask (up): the floor or ceiling of the double's decimal value, with Decimal's default context. In
 * doubles; decimal arithmetic only decides a price within float error of a grid line, so the
 * backtester's position manager sees the very bid the live one reads from the venue.
 */
export function quoteOnGridNumbers(price: number, increment: number, up: boolean): number {
  const steps = price / increment;
  const whole = Math.floor(steps);
  const fraction = steps - whole;
  if (fraction > 1e-7 && fraction < 1 - 1e-7) return gridPrice(up ? whole + 1 : whole, increment);
  const exact = new Decimal(price).div(increment);
  return (up ? exact.ceil() : exact.floor()).mul(increment).toNumber();
}

/** `steps` × `increment` as the double nearest the decimal product (the venue's "483.25", not 483.25000000000006). */
function gridPrice(steps: number, increment: number): number {
  const perUnit = Math.round(1 / increment);
  // a decimal increment (0.01, 1e-8) divides exactly by its whole inverse: one correct rounding
  return perUnit >= 1 && Math.abs(perUnit * increment - 1) < 1e-12 ? steps / perUnit : steps * increment;
}

/** The same math on doubles, for the backtester; agrees with marketFill to within float error. */
export function marketFillNumbers(input: MarketFillInput): MarketFillNumbers {
  checkInput(input);
  const { impactBps, totalBps } = adverseBps(input);
  const direction = input.side === "BUY" ? 1 : -1;
  const priceInc = Number(input.rules.priceIncrement);
  const baseInc = Number(input.rules.baseIncrement);
  const raw = Number(input.referencePrice) * (1 + (direction * totalBps) / 10_000);
  const steps = raw / priceInc;
  let price = onGrid(steps, priceInc, input.side === "BUY");
  if (price <= 0) price = priceInc;
  const feeRate = input.takerFeeBps / 10_000;
  const floorBase = (x: number) => onGrid(x / baseInc, baseInc, false);

  let base: number;
  if (input.baseSize !== undefined) base = floorBase(Number(input.baseSize));
  else if (input.side === "BUY") base = floorBase(Number(input.quoteSize) / (1 + feeRate) / price);
  else base = floorBase(Number(input.quoteSize) / price);

  const value = base * price;
  const fee = value * feeRate;
  return {
    averagePrice: price,
    baseSize: base,
    quoteValue: value,
    fee,
    totalQuote: input.side === "BUY" ? value + fee : value - fee,
    slippageBps: totalBps,
    impactBps,
  };
}

/**
 * The price a resting limit order fills at, or undefined while the market has not reached it.
 * `low`/`high` are the cheapest and dearest prices others traded at (a candle's low/high, or the
 * best ask/best bid right now): a BUY fills once someone sells at or below its limit.
 */
export function limitFillPrice(order: {
  side: Side;
  limitPrice: string;
  low: string | number;
  high: string | number;
}): string | undefined {
  const limit = new Exact(order.limitPrice);
  const crossed = order.side === "BUY" ? limit.gte(order.low) : limit.lte(order.high);
  return crossed ? order.limitPrice : undefined;
}

export function limitFillPriceNumbers(
  side: Side,
  limitPrice: number,
  low: number,
  high: number,
): number | undefined {
  const crossed = side === "BUY" ? low <= limitPrice : high >= limitPrice;
  return crossed ? limitPrice : undefined;
}

export interface LimitFill {
  averagePrice: string;
  baseSize: string;
  quoteValue: string;
  fee: string;
  /** BUY: quote spent (value + fee); SELL: quote received (value - fee) */
  totalQuote: string;
}

/** Cost of a limit order filled in full at its limit price as maker. Also what a BUY must hold. */
export function limitFill(order: {
  side: Side;
  baseSize: string;
  limitPrice: string;
  makerFeeBps: number;
}): LimitFill {
  return fixedPriceFill({
    side: order.side,
    baseSize: order.baseSize,
    price: order.limitPrice,
    feeBps: order.makerFeeBps,
  });
}

/** Cost of `baseSize` traded in full at one price with the given fee rate (a stop fills this way as taker). */
export function fixedPriceFill(order: {
  side: Side;
  baseSize: string;
  price: string;
  feeBps: number;
}): LimitFill {
  requireNonNegative(order.feeBps, "fee bps");
  const base = new Exact(order.baseSize);
  const price = new Exact(order.price);
  const value = base.mul(price);
  const fee = value.mul(order.feeBps).div(10_000);
  return {
    averagePrice: price.toFixed(),
    baseSize: base.toFixed(),
    quoteValue: value.toFixed(),
    fee: fee.toFixed(),
    totalQuote: (order.side === "BUY" ? value.plus(fee) : value.minus(fee)).toFixed(),
  };
}

export function limitFillNumbers(
  side: Side,
  baseSize: number,
  limitPrice: number,
  makerFeeBps: number,
): { quoteValue: number; fee: number; totalQuote: number } {
  const value = baseSize * limitPrice;
  const fee = (value * makerFeeBps) / 10_000;
  return { quoteValue: value, fee, totalQuote: side === "BUY" ? value + fee : value - fee };
}

/** What one look at the market does to a resting stop-limit that has not triggered yet. */
export type StopOutcome =
  | { triggered: false }
  /** fillPrice undefined: the market gapped through the limit; the order now rests at its limit */
  | { triggered: true; fillPrice: string | undefined };

/**
 * A stop-limit against the market since it was last looked at: a candle's open/high/low, or one
 * price as all three. SELL (STOP_DOWN): triggered when low <= stop; it trades at the first price at
 * or below the stop, min(stop, open) (an open below the stop is a gap), floored onto the price grid,
 * and fills there when that is >= the limit; below the limit it stays open, triggered. BUY
 * (STOP_UP) mirrors it: high >= stop, max(stop, open) rounded up, fills when <= the limit.
 * Stop and limit are on the grid already (order-request.ts puts them there).
 */
export function stopLimitOutcome(
  order: { side: Side; stopPrice: string; limitPrice: string },
  market: { open: string | number; high: string | number; low: string | number },
  priceIncrement: string,
): StopOutcome {
  const stop = new Exact(order.stopPrice);
  const limit = new Exact(order.limitPrice);
  const open = new Exact(market.open);
  const inc = new Exact(priceIncrement);
  if (order.side === "SELL") {
    if (new Exact(market.low).gt(stop)) return { triggered: false };
    const price = Exact.min(stop, open).div(inc).floor().mul(inc);
    return { triggered: true, fillPrice: price.gte(limit) ? price.toFixed() : undefined };
  }
  if (new Exact(market.high).lt(stop)) return { triggered: false };
  const price = Exact.max(stop, open).div(inc).ceil().mul(inc);
  return { triggered: true, fillPrice: price.lte(limit) ? price.toFixed() : undefined };
}

/** stopLimitOutcome on doubles, for the backtester: NaN = not triggered, undefined = triggered, resting. */
export function stopLimitOutcomeNumbers(
  side: Side,
  stopPrice: number,
  limitPrice: number,
  open: number,
  high: number,
  low: number,
  priceIncrement: number,
): number | undefined {
  if (side === "SELL") {
    if (low > stopPrice) return Number.NaN;
    const price = onGrid(Math.min(stopPrice, open) / priceIncrement, priceIncrement, false);
    return price >= limitPrice ? price : undefined;
  }
  if (high < stopPrice) return Number.NaN;
  const price = onGrid(Math.max(stopPrice, open) / priceIncrement, priceIncrement, true);
  return price <= limitPrice ? price : undefined;
}
