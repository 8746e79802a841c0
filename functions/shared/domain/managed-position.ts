/**
 * A managed position: one entry fill and the rules that take it out again (stop, target ladder,
 * trailing stop, time limit, signal, kill switch). The per-symbol `Position` of books.ts is the
 * ledger (what is held, at what cost); a managed position is the trade the exit policy watches.
 * Live, the portfolio step opens one when an entry BUY fills; the backtest opens one the same way.
 */
import { z } from "zod";
import { DecimalString, FiniteNumber, IsoTime, ProductId } from "./primitives.js";

/** Why a position (or a leg of it) was sold. TAKE_PROFIT carries its ladder leg (TAKE_PROFIT_1, _2, ...). */
export const ExitReason = z.enum([
  "STOP_LOSS",
  "TAKE_PROFIT",
  "TRAILING_STOP",
  "TIME_LIMIT",
  "SIGNAL",
  "KILL_SWITCH",
  "MANUAL",
]);
export type ExitReason = z.infer<typeof ExitReason>;

/** The label users see: TAKE_PROFIT_1, TAKE_PROFIT_2, ... for ladder legs, the reason otherwise. */
export function exitLabel(reason: ExitReason, leg: number): string {
  return reason === "TAKE_PROFIT" ? `TAKE_PROFIT_${leg}` : reason;
}

export const ManagedPositionStatus = z.enum(["OPEN", "CLOSING", "CLOSED"]);
export type ManagedPositionStatus = z.infer<typeof ManagedPositionStatus>;

/**
 * The venue's terms of a resting stop: a STOP_LIMIT SELL GTC that waits on the venue (Coinbase
 * stop_limit_stop_limit_gtc, the paper venue's stop) for the last trade price to fall to
 * `stopPrice`, then sells at `limitPrice` or better. Both on the product's price grid.
 */
export const RestingTerms = z.object({
  stopPrice: DecimalString,
  limitPrice: DecimalString,
});
export type RestingTerms = z.infer<typeof RestingTerms>;

/**
 * How an exit ended: FILLED (some base sold, booked), FAILED (refused or nothing filled; a whole
 * exit is issued anew), CANCELLED (a resting stop the position manager took off the venue with
 * nothing filled, to sell otherwise or to place a higher one).
 */
export const ExitOutcome = z.enum(["FILLED", "FAILED", "CANCELLED"]);
export type ExitOutcome = z.infer<typeof ExitOutcome>;

/**
 * One exit the position manager issued: a SELL in the execution chain, keyed by (position, reason,
 * leg), or, with `resting`, the protective stop resting on the venue (STOP_LOSS or TRAILING_STOP, keyed by
 * position and placement). A resting stop is not an exit in flight: the position stays OPEN and
 * the policy still watches all of it; it is cancelled before any other sell of the position.
 */
export const PositionExit = z.object({
  /** the exit's recommendation id (deterministic: position, reason, leg; or position, placement) */
  exitId: z.string().min(1),
  reason: ExitReason,
  /** 1.. for take-profit legs; 0 for whole exits */
  leg: z.number().int().nonnegative(),
  /** base the policy asked to sell (the executor caps it at what is held) */
  baseSize: DecimalString,
  /** the level that was touched (stop, target) or the mark (time, signal, kill switch) */
  triggerPrice: FiniteNumber.positive(),
  at: IsoTime,
  /** a resting stop-limit on the venue, with its stop and limit prices (absent: a market SELL) */
  resting: RestingTerms.optional(),
  /** set by the portfolio step once the exit's order is terminal */
  filledBase: DecimalString.optional(),
  averagePrice: FiniteNumber.positive().optional(),
  pnlUsd: FiniteNumber.optional(),
  outcome: ExitOutcome.optional(),
});
export type PositionExit = z.infer<typeof PositionExit>;

/** An operator's request to sell the whole rest of a position (the MANUAL exit): who, why, when. */
export const ManualExitRequest = z.object({
  by: z.string().min(1),
  reason: z.string().min(1),
  requestedAt: IsoTime,
});
export type ManualExitRequest = z.infer<typeof ManualExitRequest>;

/**
 * An exit the venue refused EXIT_MAX_ATTEMPTS times in a row: the position manager issues no
 * automatic exit on the position until an operator sells it (MANUAL) or clears the hold.
 */
export const OperatorHold = z.object({
  reason: ExitReason,
  leg: z.number().int().nonnegative(),
  /** failed attempts of that reason and leg since the last clear */
  failedAttempts: z.number().int().positive(),
  since: IsoTime,
});
export type OperatorHold = z.infer<typeof OperatorHold>;

export const ManagedPosition = z.object({
  /** the entry recommendation's id */
  positionId: z.string().min(1),
  symbol: ProductId,
  status: ManagedPositionStatus,
  /** the entry's average fill price (fees excluded) */
  entryPrice: FiniteNumber.positive(),
  /** base bought by the entry */
  entryQuantity: DecimalString,
  /** base still held by this position (entry minus filled exits) */
  quantity: DecimalString,
  /** quote paid for the entry, fees included */
  entryCostUsd: FiniteNumber.nonnegative(),
  /** R: the stop distance in price (entry - initial stop) */
  riskPerUnit: FiniteNumber.positive(),
  stopLoss: FiniteNumber.positive(),
  /** the target ladder: price levels, ascending, and the share of the entry quantity sold at each */
  takeProfits: z.array(z.object({ price: FiniteNumber.positive(), share: FiniteNumber.positive().max(1) })),
  /** ladder legs already issued */
  targetsHit: z.number().int().nonnegative(),
  highWaterMark: FiniteNumber.positive(),
  /** the trailing stop, once activated */
  trailingStop: FiniteNumber.positive().optional(),
  openedAt: IsoTime,
  /** the close of the time limit (openedAt + EXIT_TIME_LIMIT_CANDLES candles); absent when off */
  expiresAt: IsoTime.optional(),
  /** the last market observation evaluated (candle start or quote time) */
  evaluatedAt: IsoTime,
  /** exits issued, market SELLs and resting stops, in order */
  exits: z.array(PositionExit),
  /** an operator asked to sell the whole rest: the next evaluation issues the MANUAL exit */
  manualExit: ManualExitRequest.optional(),
  /** set when an exit was refused too often: no automatic exit until an operator acts */
  needsOperator: OperatorHold.optional(),
  /** failed exits before this time no longer count toward EXIT_MAX_ATTEMPTS (an operator cleared them) */
  failuresClearedAt: IsoTime.optional(),
  realizedPnlUsd: FiniteNumber,
  closedAt: IsoTime.optional(),
  /** optimistic lock: every write is conditional on the version read */
  version: z.number().int().nonnegative(),
});
export type ManagedPosition = z.infer<typeof ManagedPosition>;
