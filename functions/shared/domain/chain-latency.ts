/**
 * How long a recommendation took from its candle's close to the order the venue accepted, hop by
 * hop, read from the times each stage stamped on it: the candle close and the signal's time (set
 * by the bridge from the signal) and its status history (queued, validated, risk decided, executed).
 */
import type { Recommendation, RecommendationStatus } from "./recommendation.js";

export const CHAIN_HOPS = [
  "CandleToSignal",
  "SignalToQueued",
  "QueuedToValidated",
  "ValidatedToRiskDecided",
  "RiskDecidedToOrderAccepted",
  "CandleToOrderAccepted",
] as const;
export type ChainHop = (typeof CHAIN_HOPS)[number];
/** the whole path, candle close → order accepted; its p99 is alarmed */
export const END_TO_END_HOP: ChainHop = "CandleToOrderAccepted";

/** When the recommendation last entered `status`, in ms, or undefined if it never did. */
function enteredAt(rec: Pick<Recommendation, "history">, status: RecommendationStatus): number | undefined {
  for (let i = rec.history.length - 1; i >= 0; i--) {
    if (rec.history[i].to === status) return Date.parse(rec.history[i].at);
  }
  return undefined;
}

/**
 * Milliseconds per hop of an EXECUTED entry; a hop whose two ends are not both known (an exit, which
 * has no candle or LLM step; a record from before these fields) is left out, never guessed.
 */
export function chainLatencies(
  rec: Pick<Recommendation, "history" | "candleClosedAt" | "signalAt">,
): Partial<Record<ChainHop, number>> {
  const candle = rec.candleClosedAt === undefined ? undefined : Date.parse(rec.candleClosedAt);
  const signal = rec.signalAt === undefined ? undefined : Date.parse(rec.signalAt);
  const queued = enteredAt(rec, "QUEUED");
  const validated = enteredAt(rec, "VALIDATED");
  const decided = enteredAt(rec, "RISK_APPROVED");
  const accepted = enteredAt(rec, "EXECUTED");
  const ends: Record<ChainHop, [number | undefined, number | undefined]> = {
    CandleToSignal: [candle, signal],
    SignalToQueued: [signal, queued],
    QueuedToValidated: [queued, validated],
    ValidatedToRiskDecided: [validated, decided],
    RiskDecidedToOrderAccepted: [decided, accepted],
    CandleToOrderAccepted: [candle, accepted],
  };
  const out: Partial<Record<ChainHop, number>> = {};
  for (const hop of CHAIN_HOPS) {
    const [from, to] = ends[hop];
    if (from !== undefined && to !== undefined) out[hop] = to - from;
  }
  return out;
}
