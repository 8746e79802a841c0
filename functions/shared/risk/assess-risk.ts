/**
 * The risk manager's decision for one recommendation: size it to fit every limit, or refuse it.
 *
 * Shrink or refuse:
 * - Hard stops always refuse: kill switch, daily trade count, daily loss, drawdown, missing candle
 *   history (INSUFFICIENT_DATA), and for a SELL, nothing held (NO_POSITION_TO_SELL). A BUY is also
 *   refused when the portfolio figures are stale (PORTFOLIO_STALE); a SELL never is.
 * - Sizing limits shrink. A BUY is cut to the smallest of: the requested amount, the fractional
 *   Kelly stake, the room left under the asset concentration limit, the room left under total
 *   exposure and the cash reserve, the largest amount whose loss at the stop stays within the
 *   risk-per-trade limit, and, when the portfolio says what its open positions risk to their stops
 *   (openRiskUsd), the largest amount whose loss at its stop (plus costs) keeps equity above the
 *   drawdown floor even if every stop is hit (DRAWDOWN_BUDGET): so the drawdown limit holds but
 *   for gaps through the stops. If what is left is below `minOrderUsd`, the trade is refused, naming
 *   each limit that leaves less than the minimum (SIZE_BELOW_MINIMUM when it is the request itself
 *   or the Kelly stake, e.g. a confidence with no edge).
 * - A SELL (spot, no shorting) is cut to the value of what is held at the entry price; it reduces
 *   exposure, so concentration, exposure, risk-per-trade and Kelly never cut or block it.
 * - A refusal lists every limit that is broken, hard stops and sizing alike, with numbers.
 *
 * Pure and allocation-light: it runs in the backtester's inner loop, so no zod here; the handler
 * parses at its boundary. A snapshot no decision can be made from (NaN, negative quantity) throws
 * a RiskInputError; market conditions never throw.
 */
import type { RiskDecision, Side } from "#domain/schemas.js";
import { RiskInputError } from "./errors.js";
import { kellyCriterion, kellyStakeFraction } from "./kelly.js";
import { DEFAULT_RISK_LIMITS, type RiskLimits } from "./limits.js";
import {
  assertPositiveEquity,
  dailyLossFraction,
  drawdownFraction,
  grossExposureUsd,
  type PortfolioState,
} from "./portfolio.js";
import { closesNeededForVolatility, dailyVolatilityOrNaN } from "./volatility.js";

export const MIN_STOP_DISTANCE = 0.01;
export const MAX_STOP_DISTANCE = 0.2;

export interface RiskRecommendation {
  recommendationId: string;
  symbol: string;
  side: Side;
  amountUsd: number;
  /** model confidence, used as the Kelly win probability */
  confidence: number;
  entryPrice: number;
}

export interface RiskInput {
  recommendation: RiskRecommendation;
  portfolio: PortfolioState;
  /** closes of contiguous candles of the recommendation's symbol, oldest first */
  recentCloses: ArrayLike<number>;
  closeIntervalSeconds: number;
  limits?: RiskLimits;
  /**
   * Entry plus exit costs (fees, half spread, slippage) as a fraction of the amount: counted with
   * the stop distance in the drawdown budget (only when the portfolio carries openRiskUsd). Default 0.
   */
  roundTripCost?: number;
}

/** What set the approved amount (for a refusal: what set the amount that was too small). */
export type SizingConstraint =
  | "REQUESTED"
  | "KELLY"
  | "ASSET_CONCENTRATION"
  | "TOTAL_EXPOSURE"
  | "RISK_PER_TRADE"
  | "DRAWDOWN_BUDGET"
  | "POSITION_VALUE";

export type RiskRefusal = RiskDecision["refusals"][number];

export type RiskAssessment = RiskDecision & {
  /** stop distance as a fraction of entry; 0 when volatility is unknown */
  stopDistance: number;
  /** full Kelly f* = p - (1-p)/b before the fractional multiplier and clamp (negative: no edge) */
  fullKelly: number;
  /** amount the sizing arrived at before the minimum-order check (0 for a SELL of nothing) */
  sizedAmountUsd: number;
  bindingConstraint: SizingConstraint;
  /** adjustedAmountUsd / equity × 100 */
  positionSizePercent: number;
  /** adjustedAmountUsd / entryPrice */
  amountCrypto: number;
  drawdown: number;
  dailyLoss: number;
};

/** Daily volatility at which the volatility term of the risk score saturates. */
export const RISK_SCORE_VOLATILITY_CEILING = 0.1;

/**
 * Risk score 0..100, higher is riskier:
 * 35 × min(1, dailyVol / 10%) + 25 × min(1, heat / maxTotalExposure)
 * + 25 × min(1, drawdown / maxDrawdown) + 15 × (1 - confidence).
 * Unknown volatility (NaN) scores as the ceiling.
 */
export function riskScore(
  dailyVolatility: number,
  heat: number,
  drawdown: number,
  confidence: number,
  limits: RiskLimits,
): number {
  const volTerm = Number.isNaN(dailyVolatility)
    ? 1
    : Math.min(1, dailyVolatility / RISK_SCORE_VOLATILITY_CEILING);
  const heatTerm = Math.min(1, heat / limits.maxTotalExposure);
  const drawdownTerm = Math.min(1, drawdown / limits.maxDrawdown);
  const score = 35 * volTerm + 25 * heatTerm + 25 * drawdownTerm + 15 * (1 - confidence);
  return Math.min(100, Math.max(0, score));
}

/** stopVolMultiple × daily volatility, clamped to [1%, 20%]. */
export function stopDistanceFor(dailyVolatility: number, limits: RiskLimits): number {
  const distance = limits.stopVolMultiple * dailyVolatility;
  return Math.min(MAX_STOP_DISTANCE, Math.max(MIN_STOP_DISTANCE, distance));
}

export function assessRisk(input: RiskInput, now: Date): RiskAssessment {
  const limits = input.limits ?? DEFAULT_RISK_LIMITS;
  if (limits !== DEFAULT_RISK_LIMITS) assertValidLimits(limits);
  const recommendation = input.recommendation;
  const portfolio = input.portfolio;
  assertValidRecommendation(recommendation);
  assertValidPortfolio(portfolio);

  const { symbol, side, confidence, entryPrice } = recommendation;
  const requested = recommendation.amountUsd;
  const equity = portfolio.equityUsd;
  const exposure = grossExposureUsd(portfolio);
  const heat = exposure / equity;
  const drawdown = drawdownFraction(portfolio);
  const dailyLoss = dailyLossFraction(portfolio);
  const position = portfolio.positions[symbol];
  const heldQuantity = position === undefined ? 0 : position.quantity;

  const vol = dailyVolatilityOrNaN(input.recentCloses, input.closeIntervalSeconds);
  const volKnown = !Number.isNaN(vol);
  const stopDistance = volKnown ? stopDistanceFor(vol, limits) : 0;
  const fullKelly = kellyCriterion(confidence, limits.takeProfitRiskReward);
  const stake = kellyStakeFraction(confidence, limits);
  const minOrder = limits.minOrderUsd;

  const refusals: RiskRefusal[] = [];
  if (portfolio.killSwitchActive) {
    refusals.push({
      reason: "KILL_SWITCH_ACTIVE",
      detail: "the kill switch is on: no new orders until an operator turns it off",
    });
  }
  // never blocks a sell: an exit only reduces exposure, and must not wait for the portfolio
  if (portfolio.staleSnapshot !== undefined && side === "BUY") {
    refusals.push({ reason: "PORTFOLIO_STALE", detail: portfolio.staleSnapshot });
  }
  if (portfolio.tradesToday >= limits.maxTradesPerDay) {
    refusals.push({
      reason: "DAILY_TRADE_LIMIT",
      detail: `${portfolio.tradesToday} trades today reach the limit of ${limits.maxTradesPerDay} per day; trading resumes at the next day start`,
    });
  }
  if (dailyLoss >= limits.maxDailyLoss) {
    refusals.push({
      reason: "DAILY_LOSS_LIMIT",
      detail: `equity ${usd(equity)} is down ${pct(dailyLoss)} from the day start ${usd(portfolio.dayStartEquityUsd)}, at or beyond the ${pct(limits.maxDailyLoss)} daily loss limit; trading resumes at the next day start`,
    });
  }
  if (drawdown >= limits.maxDrawdown) {
    refusals.push({
      reason: "MAX_DRAWDOWN",
      detail: `equity ${usd(equity)} is ${pct(drawdown)} below its peak ${usd(portfolio.peakEquityUsd)}, at or beyond the ${pct(limits.maxDrawdown)} drawdown limit; trading stays stopped until equity recovers or an operator resets the peak`,
    });
  }
  if (!volKnown) {
    const needed = closesNeededForVolatility(input.closeIntervalSeconds);
    const length = input.recentCloses.length;
    refusals.push({
      reason: "INSUFFICIENT_DATA",
      detail:
        length < needed
          ? `${length} closes at ${input.closeIntervalSeconds}s cover less than 14 days; ${needed} are needed to measure ${symbol} volatility`
          : `a close of ${symbol} in the last 14 days is not a positive finite number; fix the candle data`,
    });
  }

  let sized: number;
  let binding: SizingConstraint = "REQUESTED";
  if (side === "BUY") {
    const held = heldQuantity * (position === undefined ? 0 : position.markPrice);
    const kellyCap = stake * equity;
    const assetCap = limits.maxAssetFraction * equity - held;
    const reserveUsd = (1 - limits.maxTotalExposure) * equity;
    const exposureCap = Math.min(limits.maxTotalExposure * equity - exposure, portfolio.cashUsd - reserveUsd);
    const riskBudgetUsd = limits.maxRiskPerTrade * equity;
    const riskCap = volKnown ? riskBudgetUsd / stopDistance : Number.POSITIVE_INFINITY;

    sized = requested;
    if (kellyCap < sized) {
      sized = kellyCap;
      binding = "KELLY";
    }
    if (assetCap < sized) {
      sized = assetCap;
      binding = "ASSET_CONCENTRATION";
    }
    if (exposureCap < sized) {
      sized = exposureCap;
      binding = "TOTAL_EXPOSURE";
    }
    if (riskCap < sized) {
      sized = riskCap;
      binding = "RISK_PER_TRADE";
    }
    // the drawdown limit as a budget: every stop hit at once still leaves equity above the floor
    const floorUsd = portfolio.peakEquityUsd * (1 - limits.maxDrawdown);
    const budgetRoomUsd = equity - (portfolio.openRiskUsd ?? 0) - floorUsd;
    const lossPerUsd = stopDistance + (input.roundTripCost ?? 0);
    const budgetCap =
      portfolio.openRiskUsd !== undefined && volKnown ? budgetRoomUsd / lossPerUsd : Number.POSITIVE_INFINITY;
    if (budgetCap < sized) {
      sized = budgetCap;
      binding = "DRAWDOWN_BUDGET";
    }
    if (sized < 0) sized = 0;

    if (sized < minOrder) {
      if (assetCap < minOrder) {
        refusals.push({
          reason: "ASSET_CONCENTRATION",
          detail: `${symbol} already holds ${usd(held)} = ${pct(held / equity)} of ${usd(equity)} equity; the ${pct(limits.maxAssetFraction)} per-asset limit leaves ${usd(Math.max(0, assetCap))}, below the ${usd(minOrder)} minimum order`,
        });
      }
      if (exposureCap < minOrder) {
        refusals.push({
          reason: "TOTAL_EXPOSURE",
          detail: `positions hold ${usd(exposure)} = ${pct(heat)} of ${usd(equity)} equity with ${usd(portfolio.cashUsd)} cash; the ${pct(limits.maxTotalExposure)} exposure limit (cash reserve ${usd(reserveUsd)}) leaves ${usd(Math.max(0, exposureCap))}, below the ${usd(minOrder)} minimum order`,
        });
      }
      if (riskCap < minOrder) {
        refusals.push({
          reason: "RISK_PER_TRADE",
          detail: `the stop ${pct(stopDistance)} away (${limits.stopVolMultiple} × 14-day volatility ${pct(vol)}, clamped to ${pct(MIN_STOP_DISTANCE)}..${pct(MAX_STOP_DISTANCE)}) and the ${pct(limits.maxRiskPerTrade)} risk-per-trade limit (${usd(riskBudgetUsd)}) allow at most ${usd(riskCap)}, below the ${usd(minOrder)} minimum order`,
        });
      }
      if (budgetCap < minOrder && drawdown < limits.maxDrawdown) {
        refusals.push({
          reason: "DRAWDOWN_BUDGET",
          detail: `equity ${usd(equity)} with ${usd(portfolio.openRiskUsd ?? 0)} at risk to the open positions' stops leaves ${usd(Math.max(0, budgetRoomUsd))} above the drawdown floor ${usd(floorUsd)} (${pct(limits.maxDrawdown)} below the peak ${usd(portfolio.peakEquityUsd)}); at ${pct(lossPerUsd)} loss per dollar (stop ${pct(stopDistance)} + costs) that allows ${usd(Math.max(0, budgetCap))}, below the ${usd(minOrder)} minimum order`,
        });
      }
      if (requested < minOrder) {
        refusals.push({
          reason: "SIZE_BELOW_MINIMUM",
          detail: `the requested ${usd(requested)} is below the ${usd(minOrder)} minimum order`,
        });
      } else if (kellyCap < minOrder) {
        refusals.push({
          reason: "SIZE_BELOW_MINIMUM",
          detail: `the fractional Kelly stake at confidence ${confidence.toFixed(3)} is ${usd(kellyCap)} (f* = ${fullKelly.toFixed(4)} with payoff ${limits.takeProfitRiskReward}, × ${limits.kellyFraction}), below the ${usd(minOrder)} minimum order`,
        });
      }
    }
  } else if (heldQuantity > 0) {
    const positionCap = heldQuantity * entryPrice;
    sized = requested;
    if (positionCap < sized) {
      sized = positionCap;
      binding = "POSITION_VALUE";
    }
    if (sized < minOrder) {
      refusals.push({
        reason: "SIZE_BELOW_MINIMUM",
        detail:
          requested < minOrder
            ? `the requested ${usd(requested)} is below the ${usd(minOrder)} minimum order`
            : `the ${heldQuantity} ${symbol} held are worth ${usd(positionCap)} at ${entryPrice}, below the ${usd(minOrder)} minimum order`,
      });
    }
  } else {
    sized = 0;
    binding = "POSITION_VALUE";
    refusals.push({
      reason: "NO_POSITION_TO_SELL",
      detail: `nothing of ${symbol} is held, and spot trading cannot sell short`,
    });
  }

  const approved = refusals.length === 0;
  const adjusted = approved ? sized : 0;
  let stopLoss: number | undefined;
  let takeProfit: number | undefined;
  if (volKnown) {
    const direction = side === "BUY" ? 1 : -1;
    stopLoss = entryPrice * (1 - direction * stopDistance);
    const take = entryPrice * (1 + direction * limits.takeProfitRiskReward * stopDistance);
    // A SELL with a wide stop and a large reward ratio would need a negative take-profit price.
    takeProfit = take > 0 ? take : undefined;
  }

  return {
    recommendationId: recommendation.recommendationId,
    decision: approved ? "APPROVE" : "REFUSE",
    refusals,
    volatility14d: volKnown ? vol : 0,
    portfolioHeat: heat,
    riskScore: riskScore(vol, heat, drawdown, confidence, limits),
    kellyFraction: stake,
    requestedAmountUsd: requested,
    adjustedAmountUsd: adjusted,
    stopLoss,
    takeProfit,
    createdAt: isoTime(now),
    stopDistance,
    fullKelly,
    sizedAmountUsd: sized,
    bindingConstraint: binding,
    positionSizePercent: (adjusted / equity) * 100,
    amountCrypto: adjusted / entryPrice,
    drawdown,
    dailyLoss,
  };
}

// The backtester passes the same instant for many calls; formatting it costs more than the rest of
// a daily-candle assessment.
let lastIsoMs = Number.NaN;
let lastIso = "";
function isoTime(now: Date): string {
  const ms = now.getTime();
  if (ms !== lastIsoMs) {
    lastIso = now.toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function isFiniteNumber(x: number): boolean {
  return typeof x === "number" && x - x === 0;
}

function assertValidRecommendation(r: RiskRecommendation): void {
  if (!(r.amountUsd > 0 && isFiniteNumber(r.amountUsd))) {
    throw new RiskInputError(
      "recommendation.amountUsd",
      r.amountUsd,
      "expected a positive finite USD amount",
    );
  }
  if (!(r.confidence >= 0 && r.confidence <= 1)) {
    throw new RiskInputError("recommendation.confidence", r.confidence, "expected a probability in [0, 1]");
  }
  if (!(r.entryPrice > 0 && isFiniteNumber(r.entryPrice))) {
    throw new RiskInputError("recommendation.entryPrice", r.entryPrice, "expected a positive finite price");
  }
  if (r.side !== "BUY" && r.side !== "SELL") {
    throw new RiskInputError("recommendation.side", r.side, 'expected "BUY" or "SELL"');
  }
}

function assertValidPortfolio(p: PortfolioState): void {
  assertPositiveEquity(p.equityUsd);
  if (!isFiniteNumber(p.cashUsd)) {
    throw new RiskInputError("portfolio.cashUsd", p.cashUsd, "expected a finite USD amount");
  }
  if (!(p.peakEquityUsd > 0 && isFiniteNumber(p.peakEquityUsd))) {
    throw new RiskInputError("portfolio.peakEquityUsd", p.peakEquityUsd, "expected positive finite equity");
  }
  if (!(p.dayStartEquityUsd > 0 && isFiniteNumber(p.dayStartEquityUsd))) {
    throw new RiskInputError(
      "portfolio.dayStartEquityUsd",
      p.dayStartEquityUsd,
      "expected positive finite equity",
    );
  }
  if (!(Number.isInteger(p.tradesToday) && p.tradesToday >= 0)) {
    throw new RiskInputError("portfolio.tradesToday", p.tradesToday, "expected a whole number >= 0");
  }
}

const validatedLimits = new WeakSet<RiskLimits>();

function assertValidLimits(limits: RiskLimits): void {
  if (validatedLimits.has(limits)) return;
  const fractions = [
    "maxAssetFraction",
    "maxTotalExposure",
    "maxRiskPerTrade",
    "maxDailyLoss",
    "maxDrawdown",
    "kellyFraction",
  ] as const;
  for (const name of fractions) {
    const value = limits[name];
    if (!(value > 0 && value <= 1))
      throw new RiskInputError(`limits.${name}`, value, "expected a fraction in (0, 1]");
  }
  const positives = ["stopVolMultiple", "takeProfitRiskReward", "minOrderUsd"] as const;
  for (const name of positives) {
    const value = limits[name];
    if (!(value > 0 && isFiniteNumber(value))) {
      throw new RiskInputError(`limits.${name}`, value, "expected a positive finite number");
    }
  }
  if (!(Number.isInteger(limits.maxTradesPerDay) && limits.maxTradesPerDay >= 0)) {
    throw new RiskInputError(
      "limits.maxTradesPerDay",
      limits.maxTradesPerDay,
      "expected a whole number >= 0",
    );
  }
  validatedLimits.add(limits);
}
