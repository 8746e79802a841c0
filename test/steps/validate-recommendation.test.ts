import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RiskDecision, ValidationRequest } from "#domain/schemas.js";
import { Validation } from "#domain/schemas.js";
import { LlmAnswerInvalidError, LlmModelNotFoundError, LlmUnavailableError } from "#llm/errors.js";
import { createOllamaVerdictClient, type VerdictSource } from "#llm/ollama-client.js";
import { PROMPT_VERSION } from "#llm/prompt.js";
import {
  RecommendationNotValidatableError,
  type ValidationDeps,
  validateRecommendation,
} from "#steps/validate-recommendation.js";
import { RecommendationNotFoundError } from "#store/ports.js";
import { type FakeOllama, type FakeOllamaScriptItem, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { queuedRecommendation, realBtcCandles, signalFor } from "#test/llm/fixtures.js";
import {
  InMemoryCandles,
  InMemoryDecisions,
  InMemoryRecommendations,
  InMemorySignals,
  RecordingRiskQueue,
  silentLog,
} from "#test/llm/in-memory-ports.js";

const MODEL = "phi3:3.8b";
const NOW = new Date("2024-03-01T12:00:00.000Z");
const candles = realBtcCandles(2000, 40);
// the signal was computed on candle 30 of 40: the prompt must not see the 9 candles after it
const signal = signalFor(candles[30]);
const rec = queuedRecommendation(signal);
const request: ValidationRequest = {
  schemaVersion: 1,
  type: "ValidateRecommendation",
  recommendationId: rec.recommendationId,
  symbol: rec.symbol,
  sentAt: NOW.toISOString(),
};

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
});
afterAll(async () => {
  await ollama.close();
});

interface World {
  deps: ValidationDeps;
  recommendations: InMemoryRecommendations;
  decisions: InMemoryDecisions;
  risk: RecordingRiskQueue;
}

async function world(timeoutMs = 2_000): Promise<World> {
  const recommendations = new InMemoryRecommendations();
  const decisions = new InMemoryDecisions();
  const signals = new InMemorySignals();
  const candleStore = new InMemoryCandles();
  const risk = new RecordingRiskQueue();
  await recommendations.create(rec);
  await signals.putSignal(signal);
  await candleStore.putCandles(candles);
  const verdicts = createOllamaVerdictClient({ host: ollama.host, model: MODEL, timeoutMs, seed: 42 });
  return {
    recommendations,
    decisions,
    risk,
    deps: {
      recommendations,
      decisions,
      signals,
      candles: candleStore,
      verdicts,
      sendToRisk: risk.send,
      now: () => NOW,
      log: silentLog,
    },
  };
}

beforeEach(() => {
  ollama.reset();
});

describe("validateRecommendation", () => {
  it("APPROVE: stores the validation, moves QUEUED -> VALIDATED and sends one risk request", async () => {
    const w = await world();
    ollama.script({ kind: "approve", confidence: 0.7, reasoning: "Features and trend agree." });

    const result = await validateRecommendation(w.deps, request);

    expect(result).toMatchObject({ outcome: "approved", reusedValidation: false });
    expect(result.outcome === "approved" && result.latencyMs).toBeGreaterThanOrEqual(0);
    const stored = await w.decisions.getValidation(rec.recommendationId);
    expect(Validation.parse(stored)).toMatchObject({
      recommendationId: rec.recommendationId,
      decision: "APPROVE",
      confidence: 0.7,
      reasoning: "Features and trend agree.",
      riskAssessment: { level: "MEDIUM", factors: ["moderate volatility"] },
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      createdAt: NOW.toISOString(),
    });
    expect(JSON.parse(stored?.rawAnswer ?? "")).toMatchObject({ decision: "APPROVE" });
    const after = await w.recommendations.get(rec.recommendationId);
    expect(after?.status).toBe("VALIDATED");
    expect(after?.history.at(-1)).toMatchObject({ from: "QUEUED", to: "VALIDATED" });
    expect(w.risk.sent).toEqual([
      {
        schemaVersion: 1,
        type: "AssessRisk",
        recommendationId: rec.recommendationId,
        symbol: "BTC-USD",
        sentAt: NOW.toISOString(),
      },
    ]);
  });

  it("builds the prompt from the candles up to the signal's candle, never later ones", async () => {
    const w = await world();
    await validateRecommendation(w.deps, request);
    const [body] = ollama.chatRequests();
    const user = (body.messages as Array<{ content: string }>)[1].content;
    const lastSeen = new Date(candles[30].start * 1000).toISOString().replace(".000Z", "Z");
    const firstSeen = new Date(candles[7].start * 1000).toISOString().replace(".000Z", "Z");
    expect(user).toContain(`last 24 ONE_HOUR candles, ${firstSeen} to ${lastSeen}`);
    expect(body.format).toMatchObject({
      required: ["decision", "confidence", "reasoning", "risk_assessment"],
    });
    expect(body.options).toMatchObject({ temperature: 0, seed: 42 });
  });

  it("REJECT: moves QUEUED -> REJECTED_BY_LLM with the model's reasoning and sends nothing", async () => {
    const w = await world();
    ollama.script({ kind: "reject", reasoning: "RSI overbought at the range high." });

    const result = await validateRecommendation(w.deps, request);

    expect(result).toMatchObject({ outcome: "rejected" });
    const after = await w.recommendations.get(rec.recommendationId);
    expect(after?.status).toBe("REJECTED_BY_LLM");
    expect(after?.statusReason).toBe("RSI overbought at the range high.");
    expect((await w.decisions.getValidation(rec.recommendationId))?.decision).toBe("REJECT");
    expect(w.risk.sent).toEqual([]);
  });

  const failures: Array<[FakeOllamaScriptItem, new (...args: never[]) => Error]> = [
    ["malformed-json", LlmAnswerInvalidError],
    ["wrong-schema", LlmAnswerInvalidError],
    ["truncated", LlmAnswerInvalidError],
    ["model-not-found", LlmModelNotFoundError],
    ["busy", LlmUnavailableError],
    ["server-error", LlmUnavailableError],
    [{ kind: "slow", delayMs: 2_000 }, LlmUnavailableError],
  ];
  it.each(failures)(
    "LLM failure %j throws and leaves the recommendation QUEUED with nothing stored",
    async (behaviour, errorClass) => {
      const w = await world(200);
      ollama.script(behaviour);

      await expect(validateRecommendation(w.deps, request)).rejects.toBeInstanceOf(errorClass);

      const after = await w.recommendations.get(rec.recommendationId);
      expect(after?.status).toBe("QUEUED");
      expect(after?.history).toHaveLength(1);
      expect(await w.decisions.getValidation(rec.recommendationId)).toBeUndefined();
      expect(w.risk.sent).toEqual([]);
      expect(ollama.chatRequests()).toHaveLength(1);
    },
  );

  it("a retry after an LLM failure asks again and completes", async () => {
    const w = await world();
    ollama.script("busy", "reject");
    await expect(validateRecommendation(w.deps, request)).rejects.toBeInstanceOf(LlmUnavailableError);
    expect(await validateRecommendation(w.deps, request)).toMatchObject({ outcome: "rejected" });
    expect(ollama.chatRequests()).toHaveLength(2);
  });

  it("redelivered after success: no second LLM call, one validation, one transition, one risk message", async () => {
    const w = await world();
    await validateRecommendation(w.deps, request);
    const second = await validateRecommendation(w.deps, request);
    const third = await validateRecommendation(w.deps, request);

    expect(second).toEqual({ outcome: "resent" });
    expect(third).toEqual({ outcome: "resent" });
    expect(ollama.chatRequests()).toHaveLength(1);
    expect(w.decisions.validationWrites).toBe(1);
    expect(w.recommendations.transitionsWritten).toBe(1);
    // VALIDATED with no risk decision yet: re-sending is how a lost send is recovered
    expect(w.risk.sent).toHaveLength(3);

    await w.decisions.putRiskDecision(riskDecision());
    expect(await validateRecommendation(w.deps, request)).toEqual({
      outcome: "already-done",
      status: "VALIDATED",
    });
    expect(w.risk.sent).toHaveLength(3);
  });

  it("redelivered after a rejection: already done, no LLM call", async () => {
    const w = await world();
    ollama.script("reject");
    await validateRecommendation(w.deps, request);
    expect(await validateRecommendation(w.deps, request)).toEqual({
      outcome: "already-done",
      status: "REJECTED_BY_LLM",
    });
    expect(ollama.chatRequests()).toHaveLength(1);
  });

  it("a crash between storing the validation and the transition: the redelivery reuses the stored verdict", async () => {
    const w = await world();
    const crashing: ValidationDeps = {
      ...w.deps,
      recommendations: Object.assign(Object.create(w.recommendations), {
        transition: async () => {
          throw new Error("process killed");
        },
      }),
    };
    await expect(validateRecommendation(crashing, request)).rejects.toThrow("process killed");
    expect((await w.decisions.getValidation(rec.recommendationId))?.decision).toBe("APPROVE");
    expect((await w.recommendations.get(rec.recommendationId))?.status).toBe("QUEUED");

    ollama.script("reject"); // a second ask would flip the decision: it must not happen
    const result = await validateRecommendation(w.deps, request);
    expect(result).toEqual({ outcome: "approved", latencyMs: undefined, reusedValidation: true });
    expect(ollama.chatRequests()).toHaveLength(1);
    expect((await w.recommendations.get(rec.recommendationId))?.status).toBe("VALIDATED");
    expect(w.risk.sent).toHaveLength(1);
  });

  it("a crash between the transition and the risk send: the redelivery re-sends", async () => {
    const w = await world();
    const crashing: ValidationDeps = {
      ...w.deps,
      sendToRisk: async () => {
        throw new Error("SQS unreachable");
      },
    };
    await expect(validateRecommendation(crashing, request)).rejects.toThrow("SQS unreachable");
    expect((await w.recommendations.get(rec.recommendationId))?.status).toBe("VALIDATED");

    expect(await validateRecommendation(w.deps, request)).toEqual({ outcome: "resent" });
    expect(w.risk.sent).toHaveLength(1);
    expect(ollama.chatRequests()).toHaveLength(1);
  });

  it("concurrent deliveries that both ask: one validation wins and decides for both, one transition, one risk message", async () => {
    const w = await world();
    // the two concurrent asks get opposite answers; whichever is stored first must decide
    ollama.script("approve", "reject");

    const results = await Promise.all([
      validateRecommendation(w.deps, request),
      validateRecommendation(w.deps, request),
    ]);

    const stored = await w.decisions.getValidation(rec.recommendationId);
    expect(w.decisions.validationWrites).toBe(1);
    expect(w.recommendations.transitionsWritten).toBe(1);
    // both deliveries really raced to the model (neither saw a stored validation)
    expect(ollama.chatRequests()).toHaveLength(2);
    const expected = stored?.decision === "APPROVE" ? "approved" : "rejected";
    expect(results.map((r) => r.outcome)).toEqual([expected, expected]);
    const after = await w.recommendations.get(rec.recommendationId);
    expect(after?.status).toBe(stored?.decision === "APPROVE" ? "VALIDATED" : "REJECTED_BY_LLM");
    expect(w.risk.sent).toHaveLength(stored?.decision === "APPROVE" ? 1 : 0);
  });

  it("concurrent deliveries after a stored validation make no LLM call at all", async () => {
    const w = await world();
    const verdicts: VerdictSource = {
      ask: async () => {
        throw new Error("the LLM must not be asked when a validation is stored");
      },
    };
    await w.decisions.putValidation({
      recommendationId: rec.recommendationId,
      decision: "APPROVE",
      confidence: 0.8,
      reasoning: "stored earlier",
      riskAssessment: { level: "LOW", factors: [] },
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      latencyMs: 1234,
      rawAnswer: "{}",
      createdAt: NOW.toISOString(),
    });
    const deps = { ...w.deps, verdicts };
    const results = await Promise.all([1, 2, 3].map(() => validateRecommendation(deps, request)));
    expect(results.every((r) => r.outcome === "approved")).toBe(true);
    expect(w.recommendations.transitionsWritten).toBe(1);
    expect(w.risk.sent).toHaveLength(1);
  });

  it("a recommendation cancelled while the model was thinking stays cancelled", async () => {
    const w = await world();
    ollama.script({ kind: "slow", delayMs: 150 });
    const pending = validateRecommendation(w.deps, request);
    await new Promise((r) => setTimeout(r, 50));
    await w.recommendations.transition(
      rec.recommendationId,
      "QUEUED",
      "CANCELLED",
      "operator cancelled",
      NOW,
    );
    expect(await pending).toEqual({ outcome: "already-done", status: "CANCELLED" });
    expect(w.risk.sent).toEqual([]);
  });

  it("refuses unknown, mismatched and still-PENDING recommendations with actionable errors, asking nothing", async () => {
    const w = await world();
    await expect(
      validateRecommendation(w.deps, { ...request, recommendationId: "nope" }),
    ).rejects.toBeInstanceOf(RecommendationNotFoundError);
    await expect(validateRecommendation(w.deps, { ...request, symbol: "ETH-USD" })).rejects.toThrow(
      /message says ETH-USD.*BTC-USD/,
    );
    const pendingRec = queuedRecommendation(signal, {
      recommendationId: "rec-pending",
      status: "PENDING",
      history: [],
    });
    await w.recommendations.create(pendingRec);
    await expect(
      validateRecommendation(w.deps, { ...request, recommendationId: "rec-pending" }),
    ).rejects.toBeInstanceOf(RecommendationNotValidatableError);
    expect(ollama.chatRequests()).toHaveLength(0);
  });

  it("refuses a recommendation whose signal is gone, asking nothing", async () => {
    const w = await world();
    const orphan = queuedRecommendation(signal, { recommendationId: "rec-orphan", signalId: "sig-gone" });
    await w.recommendations.create(orphan);
    await expect(
      validateRecommendation(w.deps, { ...request, recommendationId: "rec-orphan" }),
    ).rejects.toThrow(/signal sig-gone is not in the signals table/);
    expect(ollama.chatRequests()).toHaveLength(0);
    expect((await w.recommendations.get("rec-orphan"))?.status).toBe("QUEUED");
  });
});

function riskDecision(): RiskDecision {
  return {
    recommendationId: rec.recommendationId,
    decision: "APPROVE",
    refusals: [],
    volatility14d: 0.03,
    portfolioHeat: 0.1,
    riskScore: 20,
    kellyFraction: 0.05,
    requestedAmountUsd: 100,
    adjustedAmountUsd: 80,
    createdAt: NOW.toISOString(),
  };
}
