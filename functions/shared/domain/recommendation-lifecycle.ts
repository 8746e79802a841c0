/**
 * The recommendation state machine. The store enforces it with conditional writes; this module
 * says which moves exist, so the rule lives in one place and is testable without DynamoDB.
 */
import type { Recommendation, RecommendationStatus } from "./recommendation.js";

export const TERMINAL_STATUSES: readonly RecommendationStatus[] = [
  "EXECUTED",
  "REJECTED_BY_LLM",
  "REFUSED_BY_RISK",
  "FAILED",
  "EXPIRED",
  "CANCELLED",
];

const ALLOWED: Readonly<Record<RecommendationStatus, readonly RecommendationStatus[]>> = {
  PENDING: ["QUEUED", "EXPIRED", "CANCELLED"],
  QUEUED: ["VALIDATED", "REJECTED_BY_LLM", "CANCELLED"],
  VALIDATED: ["RISK_APPROVED", "REFUSED_BY_RISK", "CANCELLED"],
  RISK_APPROVED: ["EXECUTING", "CANCELLED", "FAILED"],
  EXECUTING: ["EXECUTED", "FAILED"],
  EXECUTED: [],
  REJECTED_BY_LLM: [],
  REFUSED_BY_RISK: [],
  FAILED: [],
  EXPIRED: [],
  CANCELLED: [],
};

export function isTerminal(status: RecommendationStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: RecommendationStatus, to: RecommendationStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function allowedNext(from: RecommendationStatus): readonly RecommendationStatus[] {
  return ALLOWED[from];
}

/** The states from which `to` can be reached in one move. */
export function predecessorsOf(to: RecommendationStatus): RecommendationStatus[] {
  return (Object.keys(ALLOWED) as RecommendationStatus[]).filter((from) => ALLOWED[from].includes(to));
}

/** When the recommendation last moved into `status`, from its history; undefined if it never did. */
export function enteredAt(
  rec: Pick<Recommendation, "history">,
  status: RecommendationStatus,
): string | undefined {
  for (let i = rec.history.length - 1; i >= 0; i--)
    if (rec.history[i]!.to === status) return rec.history[i]!.at;
  return undefined;
}
