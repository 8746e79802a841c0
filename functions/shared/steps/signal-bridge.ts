/**
 * The signal bridge, as the seed's orchestrator did it:
 * 1. confident BUY signals of the last hour become $100 recommendations, once per signal
 *    (the recommendation id is derived from the signal id and created with a conditional write);
 *    a SELL signal is no entry: it acts through the position manager (exit reason SIGNAL) on the
 *    managed positions of its symbol, without the LLM;
 * 2. PENDING recommendations older than the queue window expire, with that reason;
 * 3. of the PENDING ones inside the window, the most confident few go to the validation queue.
 *
 * The validation message is sent BEFORE the PENDING → QUEUED write: a crash in between leaves a
 * message for a PENDING recommendation (the validator accepts it as queued) rather than a QUEUED
 * recommendation that no message will ever reach.
 */
import { GRANULARITY_SECONDS } from "#domain/market.js";
import { type Recommendation, SCHEMA_VERSION, type Signal, type ValidationRequest } from "#domain/schemas.js";
import type { Log } from "#runtime/log.js";
import type { KillSwitchStore, RecommendationStore, SignalStore } from "#store/ports.js";

export { DEFAULT_BRIDGE_SETTINGS } from "#defaults";

export interface BridgeSettings {
  minConfidence: number;
  amountUsd: number;
  lookbackMinutes: number;
  queueWindowMinutes: number;
  maxPerCycle: number;
}

export interface BridgeDeps {
  signals: SignalStore;
  recommendations: RecommendationStore;
  killSwitch: KillSwitchStore;
  sendToValidation(message: ValidationRequest): Promise<void>;
  log: Log;
}

export interface BridgeReport {
  signalsSeen: number;
  created: string[];
  expired: string[];
  queued: string[];
  /** why nothing was queued, when nothing was */
  heldBack?: string;
}

/** One recommendation per signal, forever: the id is a pure function of the signal id. */
export function recommendationIdFor(signalId: string): string {
  return `rec-${signalId}`;
}

export function recommendationFromSignal(signal: Signal, amountUsd: number, now: Date): Recommendation {
  const at = now.toISOString();
  const p = signal.probabilities;
  return {
    recommendationId: recommendationIdFor(signal.signalId),
    signalId: signal.signalId,
    symbol: signal.symbol,
    side: signal.signalType === "SELL" ? "SELL" : "BUY",
    amountUsd,
    confidence: signal.confidence,
    reasoning:
      `${signal.model} ${signal.modelVersion} says ${signal.signalType} ${signal.symbol} at ${signal.price} ` +
      `(P(up)=${p.up.toFixed(3)}, P(hold)=${p.hold.toFixed(3)}, P(down)=${p.down.toFixed(3)}; ` +
      `threshold ${signal.threshold}; regime ${signal.regime})`,
    status: "PENDING",
    statusReason: `created from signal ${signal.signalId}`,
    entryPrice: signal.price,
    candleClosedAt: new Date(
      (signal.candleStart + GRANULARITY_SECONDS[signal.granularity]) * 1000,
    ).toISOString(),
    signalAt: signal.createdAt,
    createdAt: at,
    updatedAt: at,
    history: [],
  };
}

export function isActionable(
  signal: Pick<Signal, "signalType" | "confidence">,
  minConfidence: number,
): boolean {
  return signal.signalType !== "HOLD" && signal.confidence > minConfidence;
}

/** PENDING recommendations created before this instant expire. */
export function queueWindowStart(settings: Pick<BridgeSettings, "queueWindowMinutes">, now: Date): Date {
  return new Date(now.getTime() - settings.queueWindowMinutes * 60_000);
}

/** ISO-8601 UTC timestamps of one format order as text does, so these compare strings. */
type Created = Pick<Recommendation, "createdAt">;

/** The PENDING recommendations that missed the queue window (created strictly before its start). */
export function expiredPending<R extends Created>(
  pending: readonly R[],
  settings: Pick<BridgeSettings, "queueWindowMinutes">,
  now: Date,
): R[] {
  const start = queueWindowStart(settings, now).toISOString();
  return pending.filter((r) => r.createdAt < start);
}

/**
 * The PENDING recommendations sent to validation this cycle: those created inside the queue window
 * (both ends included), most confident first, the older first on equal confidence, at most
 * `maxPerCycle`. Equal confidence and creation time keep the order they came in.
 */
export function selectForValidation<R extends Created & Pick<Recommendation, "confidence">>(
  pending: readonly R[],
  settings: Pick<BridgeSettings, "queueWindowMinutes" | "maxPerCycle">,
  now: Date,
): R[] {
  const start = queueWindowStart(settings, now).toISOString();
  const end = now.toISOString();
  return pending
    .filter((r) => r.createdAt >= start && r.createdAt <= end)
    .sort((a, b) => b.confidence - a.confidence || a.createdAt.localeCompare(b.createdAt))
    .slice(0, settings.maxPerCycle);
}

/** An entry: a confident BUY. SELL signals close positions (steps/manage-positions.ts), they open none. */
export function becomesRecommendation(
  signal: Pick<Signal, "signalType" | "confidence">,
  minConfidence: number,
): boolean {
  return signal.signalType === "BUY" && isActionable(signal, minConfidence);
}

export async function runBridgeCycle(
  deps: BridgeDeps,
  settings: BridgeSettings,
  now: Date,
): Promise<BridgeReport> {
  const report: BridgeReport = { signalsSeen: 0, created: [], expired: [], queued: [] };

  const since = new Date(now.getTime() - settings.lookbackMinutes * 60_000);
  const signals = await deps.signals.signalsSince(since, now);
  report.signalsSeen = signals.length;
  for (const signal of signals) {
    if (!becomesRecommendation(signal, settings.minConfidence)) continue;
    const rec = recommendationFromSignal(signal, settings.amountUsd, now);
    if (await deps.recommendations.create(rec)) {
      report.created.push(rec.recommendationId);
      deps.log.info("recommendation created", {
        correlationId: rec.recommendationId,
        signalId: signal.signalId,
      });
    }
    if (!signal.processed) await deps.signals.markProcessed(signal.signalId);
  }

  const windowStart = queueWindowStart(settings, now);
  const stalePending = await deps.recommendations.byStatusCreatedBefore("PENDING", windowStart);
  for (const stale of expiredPending(stalePending, settings, now)) {
    const reason = `not sent to validation within ${settings.queueWindowMinutes} minutes (created ${stale.createdAt})`;
    const result = await transitionUnlessRaced(deps, stale.recommendationId, "EXPIRED", reason, now);
    if (result) report.expired.push(stale.recommendationId);
  }

  const kill = await deps.killSwitch.get();
  if (kill.active) {
    report.heldBack = `kill switch is on (set by ${kill.changedBy} at ${kill.changedAt}: ${kill.reason})`;
    deps.log.warn("bridge held back: kill switch on", { killSwitch: kill });
    return report;
  }

  const pending = await deps.recommendations.byStatusCreatedBetween("PENDING", windowStart, now);
  const chosen = selectForValidation(pending, settings, now);
  // the cycle is the schedule's minute: a duplicate delivery of the same schedule shares its slots
  const cycle = now.toISOString().slice(0, 16);
  for (const rec of chosen) {
    if (!(await deps.recommendations.reserveValidationSlot(cycle, settings.maxPerCycle))) {
      deps.log.info("cycle's validation slots taken by a concurrent bridge", { cycle });
      break;
    }
    await deps.sendToValidation({
      schemaVersion: SCHEMA_VERSION,
      type: "ValidateRecommendation",
      recommendationId: rec.recommendationId,
      symbol: rec.symbol,
      sentAt: now.toISOString(),
    });
    const reason = `among the ${settings.maxPerCycle} most confident pending (${rec.confidence.toFixed(3)})`;
    if (await transitionUnlessRaced(deps, rec.recommendationId, "QUEUED", reason, now)) {
      report.queued.push(rec.recommendationId);
      deps.log.info("recommendation queued for validation", { correlationId: rec.recommendationId });
    } else {
      await deps.recommendations.releaseValidationSlot(cycle);
    }
  }
  return report;
}

/** PENDING → `to`; if another actor moved it first (a concurrent bridge, the validator), that is fine. */
async function transitionUnlessRaced(
  deps: BridgeDeps,
  recommendationId: string,
  to: "QUEUED" | "EXPIRED",
  reason: string,
  now: Date,
): Promise<boolean> {
  try {
    const { changed } = await deps.recommendations.transition(recommendationId, "PENDING", to, reason, now);
    return changed;
  } catch (error) {
    if (error instanceof Error && error.name === "IllegalTransitionError") {
      deps.log.info("recommendation moved on meanwhile", {
        correlationId: recommendationId,
        detail: error.message,
      });
      return false;
    }
    throw error;
  }
}
