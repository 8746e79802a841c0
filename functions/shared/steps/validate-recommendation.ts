/**
 * The LLM validation use case: one verdict per recommendation, stored before the state changes,
 * so a redelivered message reuses it instead of asking the model again. LLM errors propagate:
 * the queue retries, then dead-letters, and the recommendation stays QUEUED.
 */

import type {
  Candle,
  Recommendation,
  RiskRequest,
  Signal,
  Validation,
  ValidationRequest,
} from "#domain/schemas.js";
import { GRANULARITY_SECONDS, SCHEMA_VERSION } from "#domain/schemas.js";
import type { VerdictSource } from "#llm/ollama-client.js";
import { buildValidationPrompt, CANDLE_SUMMARY_WINDOW } from "#llm/prompt.js";
import type { Log } from "#runtime/log.js";
import {
  type CandleStore,
  type DecisionStore,
  IllegalTransitionError,
  RecommendationNotFoundError,
  type RecommendationStore,
  type SignalStore,
} from "#store/ports.js";

/** The logging port every domain use case takes (Powertools' Logger satisfies it). */
export type ValidationLog = Pick<Log, "info" | "warn" | "error">;

export interface ValidationDeps {
  recommendations: RecommendationStore;
  decisions: DecisionStore;
  signals: SignalStore;
  candles: CandleStore;
  verdicts: VerdictSource;
  sendToRisk(message: RiskRequest): Promise<void>;
  now(): Date;
  log: ValidationLog;
  /** stored with the validation; defaults to the prompt builder's PROMPT_VERSION */
  promptVersion?: string;
}

export type ValidationOutcome =
  | { outcome: "approved"; latencyMs?: number; reusedValidation: boolean }
  | { outcome: "rejected"; latencyMs?: number; reusedValidation: boolean }
  | { outcome: "resent" }
  | { outcome: "already-done"; status: Recommendation["status"] };

/** The recommendation cannot be validated yet or at all; the message should be retried or inspected. */
export class RecommendationNotValidatableError extends Error {
  override readonly name = "RecommendationNotValidatableError";
  constructor(
    readonly recommendationId: string,
    detail: string,
  ) {
    super(`Recommendation ${recommendationId} cannot be validated: ${detail}`);
  }
}

export async function validateRecommendation(
  deps: ValidationDeps,
  request: ValidationRequest,
): Promise<ValidationOutcome> {
  const id = request.recommendationId;
  const rec = await deps.recommendations.get(id);
  if (!rec) throw new RecommendationNotFoundError(id);
  if (rec.symbol !== request.symbol) {
    throw new RecommendationNotValidatableError(
      id,
      `the message says ${request.symbol} but the stored recommendation is for ${rec.symbol}. ` +
        "The message is inconsistent with the table; inspect the producer (signal bridge) before redriving it.",
    );
  }

  if (rec.status !== "QUEUED") return finishEarlier(deps, rec);

  let validation = await deps.decisions.getValidation(id);
  const reusedValidation = validation !== undefined;
  if (validation) {
    deps.log.info("Reusing the stored validation of a redelivered recommendation", { recommendationId: id });
  } else {
    validation = await askAndStore(deps, rec);
  }

  const latencyMs = reusedValidation ? undefined : validation.latencyMs;
  try {
    if (validation.decision === "APPROVE") {
      const reason = `Approved by LLM ${validation.model} (confidence ${validation.confidence.toFixed(2)})`;
      const { changed } = await deps.recommendations.transition(
        id,
        "QUEUED",
        "VALIDATED",
        reason,
        deps.now(),
      );
      // Only the delivery that made the move sends; if it crashed before sending, the next
      // redelivery finds VALIDATED without a risk decision and re-sends.
      if (changed) await deps.sendToRisk(riskRequestFor(rec, deps.now()));
      return { outcome: "approved", latencyMs, reusedValidation };
    }
    await deps.recommendations.transition(id, "QUEUED", "REJECTED_BY_LLM", validation.reasoning, deps.now());
    return { outcome: "rejected", latencyMs, reusedValidation };
  } catch (err) {
    // Another delivery (or a cancel) moved it on while the model was thinking: that move stands.
    if (err instanceof IllegalTransitionError) {
      const current = await deps.recommendations.get(id);
      if (current && current.status !== "QUEUED") {
        deps.log.warn("Recommendation moved on during validation; keeping its current state", {
          recommendationId: id,
          status: current.status,
        });
        return finishEarlier(deps, current);
      }
    }
    throw err;
  }
}

async function finishEarlier(deps: ValidationDeps, rec: Recommendation): Promise<ValidationOutcome> {
  if (rec.status === "PENDING") {
    throw new RecommendationNotValidatableError(
      rec.recommendationId,
      "it is still PENDING (not yet QUEUED). The bridge queues it before sending; the message will be retried.",
    );
  }
  if (rec.status === "VALIDATED") {
    const riskDecision = await deps.decisions.getRiskDecision(rec.recommendationId);
    if (!riskDecision) {
      await deps.sendToRisk(riskRequestFor(rec, deps.now()));
      deps.log.info("Re-sent the risk request of a validated recommendation", {
        recommendationId: rec.recommendationId,
      });
      return { outcome: "resent" };
    }
  }
  return { outcome: "already-done", status: rec.status };
}

async function askAndStore(deps: ValidationDeps, rec: Recommendation): Promise<Validation> {
  const signal = await deps.signals.getSignal(rec.signalId);
  if (!signal) {
    throw new RecommendationNotValidatableError(
      rec.recommendationId,
      `its signal ${rec.signalId} is not in the signals table (expired by TTL or never written). ` +
        "Cancel the recommendation, or check SIGNALS_TABLE points at the table the signal generator writes to.",
    );
  }
  const recentCandles = await candlesUpToSignal(deps.candles, signal);
  const prompt = buildValidationPrompt({ recommendation: rec, signal, recentCandles });
  const answer = await deps.verdicts.ask(prompt);
  const { verdict } = answer;
  const candidate: Validation = {
    recommendationId: rec.recommendationId,
    decision: verdict.decision,
    confidence: verdict.confidence,
    reasoning: verdict.reasoning,
    riskAssessment: { level: verdict.risk_assessment.level, factors: verdict.risk_assessment.factors },
    model: answer.model,
    promptVersion: deps.promptVersion ?? prompt.promptVersion,
    latencyMs: answer.latencyMs,
    rawAnswer: answer.rawAnswer,
    createdAt: deps.now().toISOString(),
  };
  const { created, validation } = await deps.decisions.putValidation(candidate);
  deps.log.info(
    created ? "LLM verdict stored" : "A concurrent delivery stored its verdict first; using that one",
    {
      recommendationId: rec.recommendationId,
      decision: validation.decision,
      confidence: validation.confidence,
      model: validation.model,
      latencyMs: answer.latencyMs,
    },
  );
  return validation;
}

/** The candles the signal saw, not the newest ones: the same recommendation always gets the same prompt. */
async function candlesUpToSignal(store: CandleStore, signal: Signal): Promise<Candle[]> {
  const step = GRANULARITY_SECONDS[signal.granularity];
  const from = signal.candleStart - (CANDLE_SUMMARY_WINDOW - 1) * step;
  const candles = await store.candlesBetween(signal.symbol, signal.granularity, from, signal.candleStart);
  return candles.filter((c) => c.start >= from && c.start <= signal.candleStart);
}

function riskRequestFor(rec: Recommendation, now: Date): RiskRequest {
  return {
    schemaVersion: SCHEMA_VERSION,
    type: "AssessRisk",
    recommendationId: rec.recommendationId,
    symbol: rec.symbol,
    sentAt: now.toISOString(),
  };
}
