/**
 * The exit policy: for one open position and the market since its last evaluation, which sells to
 * make and why. Pure and synchronous: the live position manager (every minute, on the venue's bid),
 * the portfolio step and the backtest call this same function, so an exit rule exists once. The
 * backtest evaluates each candle as the manager sees it on the paper venue, whose bid moves once a
 * candle: high = low = close = the bid after that candle. A stop the candle's low crossed is the
 * resting stop's (EXIT_RESTING_STOP), which the venue fills, not this policy.
 *
 * Semantics, a triple barrier (stop, target, time) as Hummingbot's PositionExecutor, plus a
 * trailing stop, a SELL signal and the kill switch:
 *
 * 0. **An operator's word first.** A MANUAL exit an operator asked for (recorded on the position)
 *    sells the whole rest at the close (the bid, live), before any rule looks at the market.
 * 1. **Stop first.** When the low reaches the stop in force (the initial stop-loss, or the trailing
 *    stop once it is above it), the whole rest is sold: STOP_LOSS or TRAILING_STOP. A candle that
 *    touches both the stop and a target is taken as a stop: the order of the high and the low inside
 *    a candle is unknown, and the cautious reading is the one that loses. The price is the stop, or
 *    the open when the candle opened below it (a gap).
 * 2. **The trail moves.** The high-water mark takes the high; once it reaches entry + activation × R
 *    the trailing stop sits distance × R under it (it only rises). A close at or under the new trail
 *    sells the rest at the close (TRAILING_STOP).
 * 3. **Targets.** Each ladder leg not yet taken whose price the high reached sells its share of the
 *    entry quantity at its price (TAKE_PROFIT, leg n); the last leg, or a leg that would leave less
 *    than nothing, sells the rest.
 * 4. **Whole exits at the close**, if anything is left, first that applies: KILL_SWITCH (the switch
 *    tripped and flattening is on), TIME_LIMIT (the evaluation is at or after the position's
 *    expiry), SIGNAL (a SELL signal for the symbol, when enabled).
 *
 * Quantities here are numbers; the executor sizes the order in decimals, floors it to the product's
 * base increment and never sells more than is held.
 */
import type { ExitReason } from "#domain/managed-position.js";
import type { ExitSettings } from "./exit-settings.js";

/** What the policy reads and advances of a position (numbers, so the backtest runs it per candle). */
export interface ExitState {
  entryPrice: number;
  entryQuantity: number;
  /** base still held by the position */
  quantity: number;
  /** R, the entry's stop distance in price */
  riskPerUnit: number;
  stopLoss: number;
  takeProfits: readonly { price: number; share: number }[];
  /** ladder legs already taken */
  targetsHit: number;
  highWaterMark: number;
  /** NaN until the trail activates */
  trailingStop: number;
  /** Unix ms at which the time limit closes the position; Infinity when there is none */
  expiresAtMs: number;
}

/** The market since the last evaluation: a candle, or a quote (high = low = close = the bid). */
export interface MarketView {
  /** the candle's open, when known: a stop gapped through fills there */
  open?: number;
  high: number;
  low: number;
  close: number;
  /** when the observation ends (candle close, quote time), Unix ms */
  atMs: number;
}

export interface ExitContext {
  /** a SELL signal for the position's symbol arrived since the last evaluation */
  sellSignal: boolean;
  /** the kill switch tripped and KILL_SWITCH_FLATTEN is on */
  flatten: boolean;
  /** an operator asked to sell the whole rest (ManagedPosition.manualExit); the backtest has none */
  manual?: boolean;
}

export interface ExitIntent {
  reason: ExitReason;
  /** 1.. for take-profit legs, 0 for a whole exit */
  leg: number;
  /** base to sell */
  quantity: number;
  /** the level touched, or the close: the reference price of the sell */
  price: number;
}

export interface ExitEvaluation {
  intents: ExitIntent[];
  /** the state after this evaluation (high-water mark, trail, legs taken, quantity after the intents) */
  state: ExitState;
}

/** The stop in force: the trailing stop once it is above the initial stop. */
export function stopInForce(state: Pick<ExitState, "stopLoss" | "trailingStop">): number {
  return state.trailingStop > state.stopLoss ? state.trailingStop : state.stopLoss;
}

export function evaluateExits(
  position: ExitState,
  market: MarketView,
  context: ExitContext,
  settings: ExitSettings,
): ExitEvaluation {
  if (!(position.quantity > 0)) return { intents: [], state: position };
  const state: ExitState = { ...position };
  const intents: ExitIntent[] = [];
  advanceExits(state, market, context, settings, intents);
  return { intents, state };
}

/**
 * evaluateExits in place, for a caller that owns the state (the backtest, per candle): advances
 * `state` and appends the exits to `intents`; allocates only for an exit. Returns how many it added.
 */
export function advanceExits(
  state: ExitState,
  market: MarketView,
  context: ExitContext,
  settings: ExitSettings,
  intents: ExitIntent[],
): number {
  if (!(state.quantity > 0)) return 0;
  const before = intents.length;

  // 0. an operator's MANUAL exit: the whole rest at the close, whatever the levels say
  if (context.manual) {
    intents.push({ reason: "MANUAL", leg: 0, quantity: state.quantity, price: market.close });
    state.quantity = 0;
    return 1;
  }

  // 1. the stop in force, before anything the same candle might also have done
  const stop = stopInForce(state);
  if (market.low <= stop) {
    const trailing = state.trailingStop > state.stopLoss;
    const price = market.open !== undefined && market.open < stop ? market.open : stop;
    intents.push({
      reason: trailing ? "TRAILING_STOP" : "STOP_LOSS",
      leg: 0,
      quantity: state.quantity,
      price,
    });
    state.quantity = 0;
    return 1;
  }

  // 2. the high-water mark and the trail
  if (market.high > state.highWaterMark) state.highWaterMark = market.high;
  const trail = settings.trailing;
  if (trail && state.highWaterMark >= state.entryPrice + trail.activationR * state.riskPerUnit) {
    const level = state.highWaterMark - trail.distanceR * state.riskPerUnit;
    if (!(state.trailingStop >= level)) state.trailingStop = level;
    if (state.trailingStop > state.stopLoss && market.close <= state.trailingStop) {
      intents.push({ reason: "TRAILING_STOP", leg: 0, quantity: state.quantity, price: market.close });
      state.quantity = 0;
      return 1;
    }
  }

  // 3. the target ladder
  const targets = state.takeProfits;
  while (state.targetsHit < targets.length && state.quantity > 0) {
    const target = targets[state.targetsHit]!;
    if (market.high < target.price) break;
    state.targetsHit++;
    const last = state.targetsHit === targets.length;
    const share = target.share * state.entryQuantity;
    // a leg that would leave a sliver (float rounding of shares that add up to 1) takes it all
    const quantity = last || share >= state.quantity * (1 - 1e-9) ? state.quantity : share;
    intents.push({ reason: "TAKE_PROFIT", leg: state.targetsHit, quantity, price: target.price });
    state.quantity -= quantity;
  }
  if (!(state.quantity > 0)) {
    state.quantity = 0;
    return intents.length - before;
  }

  // 4. whole exits at the close
  const whole: ExitReason | undefined = context.flatten
    ? "KILL_SWITCH"
    : market.atMs >= state.expiresAtMs
      ? "TIME_LIMIT"
      : context.sellSignal && settings.exitOnSellSignal
        ? "SIGNAL"
        : undefined;
  if (whole) {
    intents.push({ reason: whole, leg: 0, quantity: state.quantity, price: market.close });
    state.quantity = 0;
  }
  return intents.length - before;
}

/** The levels of a new position: stop, R, target ladder, time limit. */
export function openExitState(
  entry: {
    /** average fill price of the entry */
    price: number;
    /** base bought */
    quantity: number;
    /** the stop distance the risk manager decided, as a fraction of the price (0.02 = 2%) */
    stopDistance: number;
    openedAtMs: number;
  },
  settings: ExitSettings,
  intervalSeconds: number,
): ExitState {
  if (!(entry.price > 0 && entry.quantity > 0))
    throw new RangeError(
      `an exit state needs a positive entry price and quantity, got price ${entry.price} and quantity ${entry.quantity}`,
    );
  if (!(entry.stopDistance > 0 && entry.stopDistance < 1))
    throw new RangeError(
      `the stop distance must be a fraction above 0 and below 1 (0.02 = 2%), got ${entry.stopDistance}`,
    );
  const r = entry.price * entry.stopDistance;
  return {
    entryPrice: entry.price,
    entryQuantity: entry.quantity,
    quantity: entry.quantity,
    riskPerUnit: r,
    stopLoss: entry.price - r,
    takeProfits: settings.takeProfitLadder.map((leg) => ({
      price: entry.price + leg.atR * r,
      share: leg.share,
    })),
    targetsHit: 0,
    highWaterMark: entry.price,
    trailingStop: Number.NaN,
    expiresAtMs:
      settings.timeLimitCandles > 0
        ? entry.openedAtMs + settings.timeLimitCandles * intervalSeconds * 1000
        : Number.POSITIVE_INFINITY,
  };
}
