/** What `npm start` reports about a run (local/summary.ts reads it, local/summary-format.ts prints it). */
import type { Fill, Order, RecommendationStatus, RiskRefusalReason, SignalType } from "#domain/schemas.js";

export interface RunSummary {
  signalsByType: Record<SignalType, number>;
  /** every recommendation, entries and exits */
  recommendationsByState: Partial<Record<RecommendationStatus, number>>;
  /** the entries (the bridge's BUYs and SELLs) and the exits (the position manager's SELLs) apart */
  entriesByState: Partial<Record<RecommendationStatus, number>>;
  exitsByState: Partial<Record<RecommendationStatus, number>>;
  /** what the LLM answered; `waiting` are entries it never saw (QUEUED: no LLM answered) */
  llm: {
    approved: number;
    rejected: number;
    waiting: number;
    rejections: { recommendationId: string; symbol: string; at: string; reasoning: string }[];
  };
  /** the risk manager's refusals; one refusal can name several reasons, each is counted */
  riskRefusals: {
    total: number;
    byReason: Partial<Record<RiskRefusalReason, number>>;
    refused: {
      recommendationId: string;
      symbol: string;
      at: string;
      reasons: { reason: RiskRefusalReason; detail: string }[];
    }[];
  };
  orders: Order[];
  fills: Fill[];
  positions: { symbol: string; quantity: string; markPrice: string; marketValueUsd: string }[];
  equity?: {
    equityUsd: number;
    cashUsd: number;
    peakEquityUsd: number;
    drawdownPct: number;
    dailyPnlUsd: number;
  };
  killSwitch: { active: boolean; reason: string };
  /** every exit the position manager issued, with its reason and, once its order is done, what it booked */
  exits: {
    exitId: string;
    positionId: string;
    symbol: string;
    reason: string;
    at: string;
    baseSize: string;
    triggerPrice: number;
    outcome?: "FILLED" | "FAILED" | "CANCELLED";
    /** the protective stop that rested on the venue (listed once it filled) */
    resting?: true;
    filledBase?: string;
    averagePrice?: number;
    pnlUsd?: number;
  }[];
  /**
   * managed positions (one per entry): realized P&L, and for what is still held the unrealized P&L at
   * the ledger's last mark (quantity × mark − the entry cost of that quantity, fees included)
   */
  managedPositions: {
    positionId: string;
    symbol: string;
    status: string;
    entryPrice: number;
    entryQuantity: string;
    /** quote paid for the entry, fees included */
    entryCostUsd: number;
    quantity: string;
    openedAt: string;
    closedAt?: string;
    realizedPnlUsd: number;
    markPrice?: number;
    unrealizedPnlUsd?: number;
    exits: string[];
  }[];
  /** each traded product's price increment (Coinbase's price_increment), for printing prices */
  priceIncrements: Record<string, string>;
}
