/** The decisions taken on a recommendation: the LLM's verdict and validation, the risk decision. */
import { z } from "zod";
import { DecimalString, FiniteNumber, IsoTime, Probability, ProductId, Side } from "./primitives.js";

export const RiskLevel = z.enum(["LOW", "MEDIUM", "HIGH"]);
export type RiskLevel = z.infer<typeof RiskLevel>;

/** What the LLM must answer (forced through Ollama's `format` JSON schema). */
export const LlmVerdict = z.object({
  decision: z.enum(["APPROVE", "REJECT"]),
  confidence: Probability,
  reasoning: z.string().min(1),
  risk_assessment: z.object({
    level: RiskLevel,
    factors: z.array(z.string()),
  }),
});
export type LlmVerdict = z.infer<typeof LlmVerdict>;

export const Validation = z.object({
  recommendationId: z.string().min(1),
  decision: z.enum(["APPROVE", "REJECT"]),
  confidence: Probability,
  reasoning: z.string().min(1),
  riskAssessment: z.object({ level: RiskLevel, factors: z.array(z.string()) }),
  model: z.string().min(1),
  promptVersion: z.string().min(1),
  latencyMs: z.number().nonnegative(),
  rawAnswer: z.string(),
  createdAt: IsoTime,
});
export type Validation = z.infer<typeof Validation>;

export const RiskRefusalReason = z.enum([
  "KILL_SWITCH_ACTIVE",
  "ASSET_CONCENTRATION",
  "TOTAL_EXPOSURE",
  "RISK_PER_TRADE",
  "DAILY_TRADE_LIMIT",
  "DAILY_LOSS_LIMIT",
  "MAX_DRAWDOWN",
  "INSUFFICIENT_DATA",
  "SIZE_BELOW_MINIMUM",
  "NO_POSITION_TO_SELL",
  /** no equity snapshot, or the latest is older than RISK_MAX_SNAPSHOT_AGE_MINUTES: BUYs wait, sells go */
  "PORTFOLIO_STALE",
  /** the new trade's loss at its stop, on top of every open position's, would breach the drawdown limit */
  "DRAWDOWN_BUDGET",
]);
export type RiskRefusalReason = z.infer<typeof RiskRefusalReason>;

export const RiskDecision = z.object({
  recommendationId: z.string().min(1),
  decision: z.enum(["APPROVE", "REFUSE"]),
  refusals: z.array(z.object({ reason: RiskRefusalReason, detail: z.string() })),
  volatility14d: FiniteNumber.nonnegative(),
  portfolioHeat: FiniteNumber.nonnegative(),
  riskScore: FiniteNumber.min(0).max(100),
  kellyFraction: FiniteNumber,
  requestedAmountUsd: FiniteNumber.positive(),
  adjustedAmountUsd: FiniteNumber.nonnegative(),
  stopLoss: FiniteNumber.positive().optional(),
  takeProfit: FiniteNumber.positive().optional(),
  /** what the executor trades, fixed here once (never recomputed from balances on a retry) */
  order: z
    .object({
      symbol: ProductId,
      side: Side,
      /** BUY: quote currency to spend */
      quoteSize: DecimalString.optional(),
      /** SELL: base currency to sell (at most the position held at decision time) */
      baseSize: DecimalString.optional(),
      /** a resting stop: the STOP_LIMIT's trigger price (with limitPrice; absent: a MARKET order) */
      stopPrice: DecimalString.optional(),
      /** a resting stop: the worst price it sells at once triggered */
      limitPrice: DecimalString.optional(),
    })
    .refine((o) => (o.side === "BUY" ? o.quoteSize !== undefined : o.baseSize !== undefined), {
      message: "a BUY is sized in quote (quoteSize), a SELL in base (baseSize)",
    })
    .refine((o) => (o.stopPrice === undefined) === (o.limitPrice === undefined), {
      message: "a resting stop needs both stopPrice and limitPrice",
    })
    .refine((o) => o.stopPrice === undefined || o.side === "SELL", {
      message: "only a SELL rests as a protective stop (stopPrice)",
    })
    .optional(),
  /** who decided: the risk manager (absent: older items), or the exit policy for an exit (never refused) */
  decidedBy: z.enum(["risk-manager", "exit-policy"]).optional(),
  createdAt: IsoTime,
});
export type RiskDecision = z.infer<typeof RiskDecision>;
