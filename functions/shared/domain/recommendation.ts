/**
 * A trade recommendation and the states it moves through; which moves exist is said in
 * recommendation-lifecycle.ts.
 */
import { z } from "zod";
import { ExitReason } from "./managed-position.js";
import { FiniteNumber, IsoTime, Probability, ProductId, Side } from "./primitives.js";

export const RecommendationStatus = z.enum([
  "PENDING",
  "QUEUED",
  "VALIDATED",
  "RISK_APPROVED",
  "EXECUTING",
  "EXECUTED",
  "REJECTED_BY_LLM",
  "REFUSED_BY_RISK",
  "FAILED",
  "EXPIRED",
  "CANCELLED",
]);
export type RecommendationStatus = z.infer<typeof RecommendationStatus>;

export const StatusChange = z.object({
  from: RecommendationStatus,
  to: RecommendationStatus,
  at: IsoTime,
  reason: z.string().min(1),
});
export type StatusChange = z.infer<typeof StatusChange>;

/** One row of the seed's `trade_recommendations` table, camelCased, plus its audit trail. */
export const Recommendation = z.object({
  recommendationId: z.string().min(1),
  signalId: z.string().min(1),
  symbol: ProductId,
  side: Side,
  amountUsd: FiniteNumber.positive(),
  confidence: Probability,
  reasoning: z.string(),
  status: RecommendationStatus,
  /** why the recommendation is in its current state; required for terminal states */
  statusReason: z.string().min(1),
  entryPrice: FiniteNumber.positive(),
  stopLoss: FiniteNumber.positive().optional(),
  takeProfit: FiniteNumber.positive().optional(),
  positionSizePercent: FiniteNumber.nonnegative().optional(),
  amountCrypto: FiniteNumber.nonnegative().optional(),
  /** amount the risk manager approved (replaces amountUsd for execution) */
  approvedAmountUsd: FiniteNumber.positive().optional(),
  orderId: z.string().optional(),
  clientOrderId: z.string().optional(),
  /**
   * Set on an exit: a SELL the position manager issued for a managed position (created RISK_APPROVED:
   * exits skip the LLM and the risk manager). Absent on entries.
   */
  exit: z
    .object({
      positionId: z.string().min(1),
      reason: ExitReason,
      /** 1.. for take-profit legs, 0 for whole exits */
      leg: z.number().int().nonnegative(),
      /** 1 for the first issue; a re-issue after a refused exit counts up (a resting stop: its placement) */
      attempt: z.number().int().positive(),
      /** a protective stop resting on the venue (STOP_LIMIT), not a market SELL */
      resting: z.boolean().optional(),
    })
    .optional(),
  /** when the candle the signal was computed on closed (entries; the start of the latency clock) */
  candleClosedAt: IsoTime.optional(),
  /** when the signal was written */
  signalAt: IsoTime.optional(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  history: z.array(StatusChange),
});
export type Recommendation = z.infer<typeof Recommendation>;
