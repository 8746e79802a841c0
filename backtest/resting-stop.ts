/**
 * The resting stop as the backtest replays it (EXIT_RESTING_STOP on), in numbers:
 *
 * - what the live position manager places: the STOP_LIMIT SELL at the stop in force, its terms,
 *   id, reason and when it is replaced, all from exits/resting-stop.ts (restingTerms,
 *   restingExitIdFor, restingReason, stopLagsTrail);
 * - what the paper venue's settlement does with it (exchange/paper/paper-exchange.ts `settle`): the
 *   newest candle, once one closed after the placement, through stopLimitOutcome (a low at or under
 *   the stop fills at the stop, or at the open through a gap, as taker); a gap under the limit
 *   leaves it triggered, resting at its limit, filled as maker once the quote's bid reaches it.
 */
import type { RestingTerms } from "#domain/managed-position.js";
import { limitFillPriceNumbers, stopLimitOutcomeNumbers } from "#exchange/fill-model.js";
import { restingExitIdFor, restingReason, restingTerms } from "#exits/resting-stop.js";

export interface ReplayedRestingStop {
  /** restingExitIdFor(position, placement) */
  exitId: string;
  /** restingReason: TRAILING_STOP once it was placed at a trail above the initial stop */
  reason: "STOP_LOSS" | "TRAILING_STOP";
  /** the stop in force it was placed at */
  level: number;
  /** restingTerms: the order's stop and limit on the price grid */
  terms: RestingTerms;
  /** the same, as numbers */
  stopPrice: number;
  limitPrice: number;
  /** the base it sells, held on the venue while it rests */
  baseSize: number;
  /** the first candle row that closed after the placement: settlement reads no earlier candle */
  fromRow: number;
  /** triggered through a gap under its limit: it now rests at the limit */
  triggered: boolean;
}

/** The resting stop the position manager places at `level` for `baseSize` (its `placement`-th). */
export function restingStopAt(
  position: { positionId: string; initialStop: number },
  placement: number,
  level: number,
  terms: { priceIncrement: string; stopLimitOffset: number },
  baseSize: number,
  fromRow: number,
): ReplayedRestingStop {
  const onGrid = restingTerms(level, terms.priceIncrement, terms.stopLimitOffset);
  return {
    exitId: restingExitIdFor(position.positionId, placement),
    reason: restingReason(level, position.initialStop),
    level,
    terms: onGrid,
    stopPrice: Number(onGrid.stopPrice),
    limitPrice: Number(onGrid.limitPrice),
    baseSize,
    fromRow,
    triggered: false,
  };
}

/** A settled resting stop: its price, and whether it filled as maker (resting at its limit after a gap). */
export interface RestingStopFill {
  price: number;
  maker: boolean;
}

/**
 * The paper venue's settlement of `stop` on a candle (open, high, low) and the quote's bid (the
 * close less half the spread, off the grid as the venue's quote is): the fill, or undefined. A gap
 * under the limit marks the stop triggered, and it fills at its limit once the bid reaches it.
 */
export function settleRestingStop(
  stop: ReplayedRestingStop,
  candle: { open: number; high: number; low: number },
  bid: number,
  priceIncrement: number,
): RestingStopFill | undefined {
  if (!stop.triggered) {
    const price = stopLimitOutcomeNumbers(
      "SELL",
      stop.stopPrice,
      stop.limitPrice,
      candle.open,
      candle.high,
      candle.low,
      priceIncrement,
    );
    if (price !== undefined && Number.isNaN(price)) return undefined;
    if (price !== undefined) return { price, maker: false };
    stop.triggered = true;
  }
  // the venue's limit rule: a SELL fills at its limit once the best bid is at or above it
  const limit = limitFillPriceNumbers("SELL", stop.limitPrice, bid, bid);
  return limit === undefined ? undefined : { price: limit, maker: true };
}
