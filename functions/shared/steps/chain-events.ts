/**
 * The domain events each stage of the chain publishes when it has stored its work, built from the
 * stage's own report. A stage that wrote nothing new publishes nothing, so a repeated run (an
 * at-least-once redelivery, or the schedule firing beside the event) wakes no one again.
 */
import type { DomainEvent, EventOf } from "#domain/events.js";
import { GRANULARITY_SECONDS, type Granularity } from "#domain/market.js";
import type { SymbolIngestReport } from "#market-data/ingest.js";
import type { SignalCycleReport } from "./generate-signals.js";
import type { BridgeReport } from "./signal-bridge.js";

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
