/**
 * The JSON schema sent as Ollama's `format`, so the model's grammar can only produce a verdict
 * shape. It mirrors the zod `LlmVerdict`, which still parses every answer: Ollama constrains the
 * shape, not the meaning (e.g. it does not enforce number ranges).
 */
export const VERDICT_JSON_SCHEMA = {
  type: "object",
  properties: {
    decision: { type: "string", enum: ["APPROVE", "REJECT"] },
    confidence: { type: "number", minimum: 0, maximum: 1 },
    reasoning: { type: "string" },
    risk_assessment: {
      type: "object",
      properties: {
        level: { type: "string", enum: ["LOW", "MEDIUM", "HIGH"] },
        factors: { type: "array", items: { type: "string" } },
      },
      required: ["level", "factors"],
    },
  },
  required: ["decision", "confidence", "reasoning", "risk_assessment"],
} as const;
