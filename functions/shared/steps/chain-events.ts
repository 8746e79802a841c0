/**
 * The domain events each stage of the chain publishes when it has stored its work, built from the
 * stage's own report. A stage that wrote nothing new publishes nothing, so a repeated run (an
 * at-least-once redelivery, or the schedule firing beside the event) wakes no one again.
 */
import type { DomainEvent, EventOf } from "#domain/events.js";
import { GRANULARITY_SECONDS, type Granularity } from "#domain/market.js";
import type { SymbolIngestReport } from "#market-data/ingest.js";
import type { RiskStepOutcome } from "./assess-recommendation.js";
import type { ExecutionOutcome } from "./execute-trade.js";
import type { SignalCycleReport } from "./generate-signals.js";
import type { ReconcileReport } from "./reconcile-portfolio.js";
import type { BridgeReport } from "./signal-bridge.js";
import type { ValidationOutcome } from "./validate-recommendation.js";

/** CandlesClosed for the symbols this run stored new closed candles of, or none. */
export function candlesClosedEvents(
  reports: readonly SymbolIngestReport[],
  granularity: Granularity,
  at: Date,
): EventOf<"CandlesClosed">[] {
  const symbols = reports.filter((r) => r.ok && r.written > 0).map((r) => r.symbol);
  if (symbols.length === 0) return [];
  const step = GRANULARITY_SECONDS[granularity];
  const newestClosedStart = Math.floor(at.getTime() / 1000 / step) * step - step;
  return [
    {
      type: "CandlesClosed",
      occurredAt: at.toISOString(),
      granularity,
      candleStart: newestClosedStart,
      symbols,
    },
  ];
}

/** SignalsWritten with the ids this cycle wrote, or none. */
export function signalsWrittenEvents(report: SignalCycleReport, at: Date): EventOf<"SignalsWritten">[] {
  if (report.writtenIds.length === 0) return [];
  return [{ type: "SignalsWritten", occurredAt: at.toISOString(), signalIds: [...report.writtenIds] }];
}

/** One RecommendationQueued per recommendation this bridge cycle sent to validation. */
export function recommendationQueuedEvents(report: BridgeReport, at: Date): DomainEvent[] {
  return report.queued.map((recommendationId) => ({
    type: "RecommendationQueued",
    occurredAt: at.toISOString(),
    recommendationId,
  }));
}

/** RecommendationDecided (by the LLM) once its verdict is stored; none for a redelivery that reused it. */
export function llmDecidedEvents(
  recommendationId: string,
  result: ValidationOutcome,
  at: Date,
): DomainEvent[] {
  if (result.outcome !== "approved" && result.outcome !== "rejected") return [];
  if (result.reusedValidation) return [];
  return [
    {
      type: "RecommendationDecided",
      occurredAt: at.toISOString(),
      recommendationId,
      by: "llm",
      approved: result.outcome === "approved",
    },
  ];
}

/** RecommendationDecided (by the risk manager) once a decision is stored; none for a redelivery. */
export function riskDecidedEvents(
  recommendationId: string,
  result: RiskStepOutcome,
  at: Date,
): DomainEvent[] {
  if (result.outcome !== "approved" && result.outcome !== "refused") return [];
  return [
    {
      type: "RecommendationDecided",
      occurredAt: at.toISOString(),
      recommendationId,
      by: "risk",
      approved: result.outcome === "approved",
    },
  ];
}

/** OrderPlaced once the venue accepted the order; none for a redelivery that found it done. */
export function orderPlacedEvents(
  recommendationId: string,
  result: ExecutionOutcome,
  at: Date,
): DomainEvent[] {
  if (result.outcome !== "executed" || !result.order.orderId) return [];
  return [
    {
      type: "OrderPlaced",
      occurredAt: at.toISOString(),
      recommendationId,
      clientOrderId: result.order.clientOrderId,
      orderId: result.order.orderId,
    },
  ];
}

/**
 * What a portfolio run booked: OrderFilled once per order with new fills, PositionOpened and
 * PositionClosed for managed positions, KillSwitchChanged when the run tripped or lifted it.
 */
export function reconcileEvents(report: ReconcileReport, at: Date): DomainEvent[] {
  const occurredAt = at.toISOString();
  const events: DomainEvent[] = [];
  const filled = new Map(report.newFills.map((f) => [f.orderId, f.clientOrderId]));
  for (const [orderId, clientOrderId] of filled) {
    events.push({ type: "OrderFilled", occurredAt, orderId, clientOrderId });
  }
  for (const change of report.managedPositions) {
    if (change.kind === "opened") {
      const { positionId, symbol } = change.position;
      events.push({ type: "PositionOpened", occurredAt, positionId, symbol });
    } else if (change.kind === "exit-booked" && change.position.status === "CLOSED") {
      const { positionId, symbol } = change.position;
      events.push({ type: "PositionClosed", occurredAt, positionId, symbol });
    }
  }
  if (report.killSwitchTripped) events.push({ type: "KillSwitchChanged", occurredAt, active: true });
  else if (report.killSwitchResumed) events.push({ type: "KillSwitchChanged", occurredAt, active: false });
  return events;
}

/** KillSwitchChanged after an operator's pause or resume took effect. */
export function killSwitchChangedEvents(active: boolean, at: Date): DomainEvent[] {
  return [{ type: "KillSwitchChanged", occurredAt: at.toISOString(), active }];
}
