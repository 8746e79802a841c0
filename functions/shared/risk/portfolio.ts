/**
 * The portfolio as the risk manager sees it: equity, cash, marks and the day's counters. Spot
 * only: quantities are never negative. The caller resets `tradesToday` and `dayStartEquityUsd`
 * at the start of each trading day (UTC) and keeps `peakEquityUsd` as the running maximum.
 */
import { RiskInputError } from "./errors.js";

export interface PositionMark {
  quantity: number;
  markPrice: number;
}

export interface PortfolioState {
  equityUsd: number;
  cashUsd: number;
  peakEquityUsd: number;
  dayStartEquityUsd: number;
  tradesToday: number;
  /** keyed by product id, e.g. "BTC-USD" */
  positions: Record<string, PositionMark>;
  killSwitchActive: boolean;
  /**
   * Why these figures cannot be trusted for a new entry (no equity snapshot yet, or the latest is
   * too old): a BUY is refused with PORTFOLIO_STALE, a SELL still goes. Unset: the figures are
   * current (the backtester, which marks every step, never sets it).
   */
  staleSnapshot?: string;
  /**
   * What equity would lose if every open position left at its stop in force now, exit costs
   * included (USD). Set, it makes the drawdown limit a budget: a BUY is sized so that this, plus the
   * new trade's loss at its stop and costs, keeps equity above peak × (1 - maxDrawdown)
   * (DRAWDOWN_BUDGET). Unset: only the drawdown already taken is checked.
   */
  openRiskUsd?: number;
}

/** Market value of every position (quantity × mark), USD. Throws on a negative or non-finite mark. */
export function grossExposureUsd(portfolio: PortfolioState): number {
  let exposure = 0;
  const positions = portfolio.positions;
  for (const symbol in positions) {
    const { quantity, markPrice } = positions[symbol];
    if (!(quantity >= 0 && quantity < Number.POSITIVE_INFINITY)) {
      throw new RiskInputError(
        `positions.${symbol}.quantity`,
        quantity,
        "expected a finite quantity >= 0 (spot, no shorts)",
      );
    }
    if (!(markPrice > 0 && markPrice < Number.POSITIVE_INFINITY)) {
      throw new RiskInputError(
        `positions.${symbol}.markPrice`,
        markPrice,
        "expected a positive finite price",
      );
    }
    exposure += quantity * markPrice;
  }
  return exposure;
}

/** Market value of one position, 0 when not held. */
export function positionValueUsd(portfolio: PortfolioState, symbol: string): number {
  const position = portfolio.positions[symbol];
  return position === undefined ? 0 : position.quantity * position.markPrice;
}

/** Portfolio heat: gross exposure / equity (0.8 = 80% of equity in positions). */
export function portfolioHeat(portfolio: PortfolioState): number {
  assertPositiveEquity(portfolio.equityUsd);
  return grossExposureUsd(portfolio) / portfolio.equityUsd;
}

/** Fall from the peak as a fraction of the peak; 0 when equity is at or above the recorded peak. */
export function drawdownFraction(portfolio: PortfolioState): number {
  const { peakEquityUsd, equityUsd } = portfolio;
  return peakEquityUsd > equityUsd ? (peakEquityUsd - equityUsd) / peakEquityUsd : 0;
}

/** Loss since the day start as a fraction of day-start equity; 0 on a winning day. */
export function dailyLossFraction(portfolio: PortfolioState): number {
  const { dayStartEquityUsd, equityUsd } = portfolio;
  return dayStartEquityUsd > equityUsd ? (dayStartEquityUsd - equityUsd) / dayStartEquityUsd : 0;
}

export function assertPositiveEquity(equityUsd: number): void {
  if (!(equityUsd > 0 && equityUsd < Number.POSITIVE_INFINITY)) {
    throw new RiskInputError(
      "portfolio.equityUsd",
      equityUsd,
      "expected positive finite equity; an unfunded or corrupt snapshot cannot size a trade",
    );
  }
}

/**
 * What a position loses, from its mark, if it leaves at `stop` and pays `exitCost` (a fraction of the
 * price: fee, slippage, half spread) on the way out; 0 when the stop is above the mark. The sum over
 * the open positions is PortfolioState.openRiskUsd.
 */
export function riskToStopUsd(quantity: number, mark: number, stop: number, exitCost: number): number {
  return quantity * Math.max(0, mark - stop * (1 - exitCost));
}
