/**
 * The risk step of the chain: one risk decision per validated recommendation, stored once, then
 * VALIDATED → RISK_APPROVED (and on to the execution queue) or VALIDATED → REFUSED_BY_RISK.
 * Idempotent: a redelivered message reuses the stored decision and never approves twice.
 */

import { Decimal } from "decimal.js";
import {
  type ExecutionRequest,
  GRANULARITY_SECONDS,
  type Granularity,
  RiskDecision,
  type RiskRequest,
  SCHEMA_VERSION,
} from "#domain/schemas.js";
import { stopInForce } from "#exits/exit-policy.js";
import { assessRisk, closesNeededForVolatility, type RiskLimits } from "#risk/index.js";
import { riskToStopUsd } from "#risk/portfolio.js";
import type { Log } from "#runtime/log.js";
import {
  type CandleStore,
  type DecisionStore,
  IllegalTransitionError,
  type KillSwitchStore,
  type ManagedPositionStore,
  type PortfolioStore,
  RecommendationNotFoundError,
  type RecommendationStore,
} from "#store/ports.js";
import { loadPortfolioState, utcDay } from "./portfolio-state.js";

export interface RiskStepDeps {
  recommendations: RecommendationStore;
  decisions: DecisionStore;
  candles: Pick<CandleStore, "latestCandles">;
  portfolio: PortfolioStore;
  killSwitch: KillSwitchStore;
  /** with it, BUYs are sized to the drawdown budget (the open positions' risk to their stops) */
  managedPositions?: Pick<ManagedPositionStore, "openPositions">;
  sendToExecution(message: ExecutionRequest): Promise<void>;
  log: Log;
}

export interface RiskStepSettings {
  limits: RiskLimits;
  granularity: Granularity;
  startingCashUsd: number;
  /** BUYs are refused (PORTFOLIO_STALE) when the latest equity snapshot is older than this */
  maxSnapshotAgeMinutes: number;
  /** entry plus exit costs as a fraction of the amount (fees, slippage): counted in the drawdown budget */
  roundTripCost?: number;
}

export type RiskStepOutcome =
  | { outcome: "approved"; decision: RiskDecision }
  | { outcome: "refused"; decision: RiskDecision }
  | { outcome: "resent" | "already-done"; status: string };

/** Ids only: the executor re-reads the stored decision (docs/ARCHITECTURE.md, trust boundary). */
export function executionRequestFor(
  rec: { recommendationId: string; symbol: string; side: "BUY" | "SELL" },
  now: Date,
): ExecutionRequest {
  return {
    schemaVersion: SCHEMA_VERSION,
    type: "ExecuteTrade",
    recommendationId: rec.recommendationId,
    symbol: rec.symbol,
    side: rec.side,
    sentAt: now.toISOString(),
  };
}

/**
 * The order an approval stands for, fixed once at decision time: a BUY spends the approved quote
 * amount; a SELL sells the approved amount's worth at the recommendation's price, never more than
 * the position held (net of sells already approved).
 */
export function approvedOrder(
  rec: { symbol: string; side: "BUY" | "SELL"; entryPrice: number },
  adjustedAmountUsd: number,
  heldQuantity: number,
): NonNullable<RiskDecision["order"]> | undefined {
  if (adjustedAmountUsd <= 0) return undefined;
  if (rec.side === "BUY") {
    return { symbol: rec.symbol, side: "BUY", quoteSize: new Decimal(adjustedAmountUsd).toFixed() };
  }
  const base = Decimal.min(new Decimal(adjustedAmountUsd).div(rec.entryPrice), Math.max(0, heldQuantity));
  return {
    symbol: rec.symbol,
    side: "SELL",
    baseSize: base.toSignificantDigits(15, Decimal.ROUND_DOWN).toFixed(),
  };
}

export function refusalSummary(decision: RiskDecision): string {
  return decision.refusals.map((r) => `${r.reason}: ${r.detail}`).join("; ");
}

export async function assessRecommendation(
  deps: RiskStepDeps,
  settings: RiskStepSettings,
  request: RiskRequest,
  now: Date,
): Promise<RiskStepOutcome> {
  const id = request.recommendationId;
  const rec = await deps.recommendations.get(id);
  if (!rec) throw new RecommendationNotFoundError(id);

  if (rec.status !== "VALIDATED") {
    const stored = await deps.decisions.getRiskDecision(id);
    if (rec.status === "RISK_APPROVED" && stored?.decision === "APPROVE") {
      // approved but the process died before sending: send again (the executor is idempotent)
      await deps.sendToExecution(executionRequestFor(rec, now));
      deps.log.info("re-sent the execution request of an approved recommendation", { correlationId: id });
      return { outcome: "resent", status: rec.status };
    }
    if (["QUEUED", "PENDING"].includes(rec.status)) {
      throw new IllegalTransitionError(id, "VALIDATED", "RISK_APPROVED", rec.status);
    }
    return { outcome: "already-done", status: rec.status };
  }

  let decision = await deps.decisions.getRiskDecision(id);
  if (!decision) {
    const interval = GRANULARITY_SECONDS[settings.granularity];
    const [portfolio, candles] = await Promise.all([
      loadPortfolioState(
        deps.portfolio,
        deps.killSwitch,
        settings.startingCashUsd,
        now,
        settings.maxSnapshotAgeMinutes,
      ),
      deps.candles.latestCandles(rec.symbol, settings.granularity, closesNeededForVolatility(interval)),
    ]);
    if (deps.managedPositions) {
      // the drawdown budget: what every open position loses if it leaves at its stop in force now
      const exitCost = (settings.roundTripCost ?? 0) / 2;
      let openRiskUsd = 0;
      for (const p of await deps.managedPositions.openPositions()) {
        const mark = portfolio.positions[p.symbol]?.markPrice ?? p.entryPrice;
        const stop = stopInForce({ stopLoss: p.stopLoss, trailingStop: p.trailingStop ?? Number.NaN });
        openRiskUsd += riskToStopUsd(Number(p.quantity), mark, stop, exitCost);
      }
      portfolio.openRiskUsd = openRiskUsd;
    }
    const assessment = assessRisk(
      {
        recommendation: {
          recommendationId: id,
          symbol: rec.symbol,
          side: rec.side,
          amountUsd: rec.amountUsd,
          confidence: rec.confidence,
          entryPrice: rec.entryPrice,
        },
        portfolio,
        ...(settings.roundTripCost !== undefined ? { roundTripCost: settings.roundTripCost } : {}),
        recentCloses: candles.map((c) => c.close),
        closeIntervalSeconds: interval,
        limits: settings.limits,
      },
      now,
    );
    // the stored decision is the schema's fields of the assessment (zod drops the diagnostics)
    const order =
      assessment.decision === "APPROVE"
        ? approvedOrder(rec, assessment.adjustedAmountUsd, portfolio.positions[rec.symbol]?.quantity ?? 0)
        : undefined;
    const stored = await deps.decisions.putRiskDecision(RiskDecision.parse({ ...assessment, order }));
    decision = stored.decision;
    deps.log.info("risk decision", {
      correlationId: id,
      decision: decision.decision,
      adjustedAmountUsd: decision.adjustedAmountUsd,
      binding: assessment.bindingConstraint,
      refusals: decision.refusals,
    });
  }

  if (decision.decision === "REFUSE") {
    await deps.recommendations.transition(id, "VALIDATED", "REFUSED_BY_RISK", refusalSummary(decision), now);
    return { outcome: "refused", decision };
  }

  await deps.portfolio.recordApproval(
    {
      recommendationId: id,
      symbol: rec.symbol,
      side: rec.side,
      amountUsd: decision.adjustedAmountUsd,
      createdAt: now.toISOString(),
    },
    utcDay(now),
  );
  const { changed } = await deps.recommendations.transition(
    id,
    "VALIDATED",
    "RISK_APPROVED",
    `approved $${decision.adjustedAmountUsd.toFixed(2)} of $${decision.requestedAmountUsd.toFixed(2)} (risk score ${decision.riskScore.toFixed(0)})`,
    now,
    {
      approvedAmountUsd: decision.adjustedAmountUsd,
      stopLoss: decision.stopLoss,
      takeProfit: decision.takeProfit,
      amountCrypto: decision.adjustedAmountUsd / rec.entryPrice,
    },
  );
  // only the delivery that made the move sends; a concurrent twin stops here (a crash before the
  // send is repaired by the redelivery, which finds RISK_APPROVED and re-sends above)
  if (!changed) return { outcome: "already-done", status: "RISK_APPROVED" };
  await deps.sendToExecution(executionRequestFor(rec, now));
  return { outcome: "approved", decision };
}
