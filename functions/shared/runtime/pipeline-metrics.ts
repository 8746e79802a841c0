/**
 * The metrics each deployed function emits after its use case ran, by name and dimension, in one
 * place: the monitoring stack's alarms and dashboard, and the tests, read exactly these. Every one
 * is a single metric (its own EMF blob, flushed at once), so dimensions never mix.
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { chainLatencies } from "#domain/chain-latency.js";
import type { Recommendation } from "#domain/schemas.js";
import type { SymbolIngestReport } from "#market-data/ingest.js";
import type { RiskStepOutcome } from "#steps/assess-recommendation.js";
import type { ExecutionOutcome } from "#steps/execute-trade.js";
import type { SignalCycleReport } from "#steps/generate-signals.js";
import type { PositionManagerReport } from "#steps/manage-positions.js";
import type { PositionCommandAnswer } from "#steps/manual-exit.js";
import type { ReconcileReport } from "#steps/reconcile-portfolio.js";
import type { BridgeReport } from "#steps/signal-bridge.js";
import type { ValidationOutcome } from "#steps/validate-recommendation.js";
import type { Log } from "./log.js";
import { countBy, MetricUnit } from "./observability.js";

/** market-data: CandlesIngested per symbol (0 for a failed one), SymbolFailed per failed symbol. */
export function recordIngest(metrics: Metrics, log: Log, reports: readonly SymbolIngestReport[]): void {
  for (const r of reports) {
    if (!r.ok) {
      log.error("ingest failed for a symbol", { report: r });
      countBy(metrics, "SymbolFailed", "symbol", r.symbol);
    } else if (r.gaps.length > 0) log.warn("gaps in the candles", { symbol: r.symbol, gaps: r.gaps });
    countBy(metrics, "CandlesIngested", "symbol", r.symbol, r.ok ? r.written : 0);
  }
}

/** signal-generator: SignalsGenerated per type, SymbolFailed per symbol, cycle and inference time. */
export function recordSignalCycle(metrics: Metrics, report: SignalCycleReport, cycleMs: number): void {
  for (const s of report.signals) countBy(metrics, "SignalsGenerated", "signalType", s.signalType);
  for (const f of report.failed) countBy(metrics, "SymbolFailed", "symbol", f.symbol);
  const latency = metrics.singleMetric();
  latency.addMetric("SignalCycleMs", MetricUnit.Milliseconds, cycleMs);
  latency.addMetric("InferenceMs", MetricUnit.Milliseconds, report.inferenceMs);
}

/** signal-bridge: RecommendationsByState for what the cycle created, queued and expired. */
export function recordBridgeCycle(metrics: Metrics, report: BridgeReport): void {
  countBy(metrics, "RecommendationsByState", "state", "PENDING", report.created.length);
  countBy(metrics, "RecommendationsByState", "state", "QUEUED", report.queued.length);
  countBy(metrics, "RecommendationsByState", "state", "EXPIRED", report.expired.length);
}

/** llm-validator: LlmDecision, LlmLatencyMs (when the LLM was asked) and RecommendationsByState. */
export function recordValidation(metrics: Metrics, result: ValidationOutcome): void {
  if (result.outcome === "approved" || result.outcome === "rejected") {
    countBy(metrics, "LlmDecision", "decision", result.outcome === "approved" ? "APPROVE" : "REJECT");
    if (result.latencyMs !== undefined) {
      const single = metrics.singleMetric();
      single.addMetric("LlmLatencyMs", MetricUnit.Milliseconds, result.latencyMs);
    }
    const state = result.outcome === "approved" ? "VALIDATED" : "REJECTED_BY_LLM";
    countBy(metrics, "RecommendationsByState", "state", state);
  }
}

/** risk-manager: RiskRefusals per reason and RecommendationsByState for the decision. */
export function recordRiskOutcome(metrics: Metrics, result: RiskStepOutcome): void {
  if (result.outcome === "refused") {
    for (const r of result.decision.refusals) countBy(metrics, "RiskRefusals", "reason", r.reason);
    countBy(metrics, "RecommendationsByState", "state", "REFUSED_BY_RISK");
  } else if (result.outcome === "approved") {
    countBy(metrics, "RecommendationsByState", "state", "RISK_APPROVED");
  }
}

/**
 * trade-executor: OrdersPlaced, RecommendationsByState, SlippageBps (against the signal's price,
 * positive = paid more on a BUY or got less on a SELL), ExecutionPriceRefused, ExecutionMessageMismatch,
 * and ChainLatencyMs per hop of an executed entry (recordChainLatency).
 */
export async function recordExecution(
  metrics: Metrics,
  venue: string,
  recommendation: () => Promise<
    (Pick<Recommendation, "side" | "entryPrice"> & Partial<Pick<Recommendation, "history">>) | undefined
  >,
  result: ExecutionOutcome,
): Promise<void> {
  if (result.outcome === "executed") {
    countBy(metrics, "OrdersPlaced", "venue", venue);
    countBy(metrics, "RecommendationsByState", "state", "EXECUTED");
    const rec = await recommendation();
    if (rec?.history) recordChainLatency(metrics, { ...rec, history: rec.history });
    const fillPrice = Number(result.order.averageFilledPrice);
    if (rec && fillPrice > 0) {
      const signed = rec.side === "BUY" ? fillPrice - rec.entryPrice : rec.entryPrice - fillPrice;
      const m = metrics.singleMetric();
      m.addDimension("venue", venue);
      m.addMetric("SlippageBps", MetricUnit.Count, (signed / rec.entryPrice) * 10_000);
    }
  } else if (result.outcome === "failed") {
    countBy(metrics, "RecommendationsByState", "state", "FAILED");
    if (result.priceRefusal) metrics.singleMetric().addMetric("ExecutionPriceRefused", MetricUnit.Count, 1);
  } else if (result.outcome === "cancelled") {
    countBy(metrics, "RecommendationsByState", "state", "CANCELLED");
  } else if (result.outcome === "message-refused") {
    metrics.singleMetric().addMetric("ExecutionMessageMismatch", MetricUnit.Count, 1);
  }
}

/**
 * ChainLatencyMs with dimension `hop` (CandleToSignal ... CandleToOrderAccepted, see
 * domain/chain-latency.ts), one value per hop of an executed entry: the dashboard plots p50/p99 and
 * the end-to-end hop's p99 is alarmed.
 */
export function recordChainLatency(
  metrics: Metrics,
  rec: Pick<Recommendation, "history" | "candleClosedAt" | "signalAt">,
): void {
  for (const [hop, ms] of Object.entries(chainLatencies(rec))) {
    const m = metrics.singleMetric();
    m.addDimension("hop", hop);
    m.addMetric("ChainLatencyMs", MetricUnit.Milliseconds, ms);
  }
}

/**
 * portfolio: equity, drawdown and kill switch state, then per venue OrderFills, UnknownExposure
 * (when there is any), UnpricedAssets and StuckRecommendations (every run, 0 included: their alarms
 * read a continuous series).
 */
export async function recordReconcile(
  metrics: Metrics,
  venue: string,
  report: ReconcileReport,
  state: { killSwitchActive: () => Promise<boolean>; stuck: number },
): Promise<void> {
  const m = metrics.singleMetric();
  m.addMetric("EquityUsd", MetricUnit.Count, report.snapshot.equityUsd);
  m.addMetric("DrawdownPct", MetricUnit.Percent, report.snapshot.drawdownPct);
  m.addMetric("KillSwitchActive", MetricUnit.Count, (await state.killSwitchActive()) ? 1 : 0);
  countBy(metrics, "OrderFills", "venue", venue, report.newFills.length);
  if (report.unknownExposure.length > 0)
    countBy(metrics, "UnknownExposure", "venue", venue, report.unknownExposure.length);
  countBy(metrics, "UnpricedAssets", "venue", venue, report.unpriced.length);
  countBy(metrics, "StuckRecommendations", "venue", venue, state.stuck);
  // entries that filled with no usable stop: held with no exit rule (alarmed)
  const unprotected = report.managedPositions.filter((c) => c.kind === "unprotected").length;
  countBy(metrics, "UnprotectedPositions", "venue", venue, unprotected);
}

/**
 * position-manager: ExitsIssued per reason (TAKE_PROFIT_1, STOP_LOSS, ...), OpenManagedPositions,
 * and every run (0 included, their alarms read a continuous series) ExitsFailed,
 * PositionsNotEvaluated and PositionsAwaitingOperator (an exit refused EXIT_MAX_ATTEMPTS times).
 */
export function recordPositionManager(metrics: Metrics, report: PositionManagerReport): void {
  for (const exit of report.issued) countBy(metrics, "ExitsIssued", "reason", exit.label);
  const m = metrics.singleMetric();
  m.addMetric("OpenManagedPositions", MetricUnit.Count, report.evaluated + report.errors.length);
  m.addMetric("ExitsFailed", MetricUnit.Count, report.failedExits.length);
  m.addMetric("PositionsNotEvaluated", MetricUnit.Count, report.errors.length);
  m.addMetric("PositionsAwaitingOperator", MetricUnit.Count, report.awaitingOperator.length);
}

/** position-manager, an operator's command: ExitsIssued per reason for the exits it issued at once (MANUAL, ...). */
export function recordPositionCommand(metrics: Metrics, answer: PositionCommandAnswer): void {
  const results = "results" in answer ? answer.results : "issued" in answer ? [answer] : [];
  for (const r of results)
    if ("issued" in r) for (const exit of r.issued) countBy(metrics, "ExitsIssued", "reason", exit.label);
}

/** kill-switch: KillSwitchActive, 1 when an operator paused trading, 0 when resumed. */
export function recordKillSwitch(metrics: Metrics, active: boolean): void {
  metrics.singleMetric().addMetric("KillSwitchActive", MetricUnit.Count, active ? 1 : 0);
}
