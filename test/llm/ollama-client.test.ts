import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { LlmVerdict } from "#domain/schemas.js";
import {
  LlmAnswerInvalidError,
  LlmModelNotFoundError,
  LlmRequestRejectedError,
  LlmUnavailableError,
} from "#llm/errors.js";
import { checkOllamaHealth, createOllamaVerdictClient } from "#llm/ollama-client.js";
import { buildValidationPrompt } from "#llm/prompt.js";
import { VERDICT_JSON_SCHEMA } from "#llm/verdict-schema.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { queuedRecommendation, realBtcCandles, signalFor } from "./fixtures.js";

const MODEL = "phi3:3.8b";
const candles = realBtcCandles(500, 24);
const signal = signalFor(candles[candles.length - 1]);
const prompt = buildValidationPrompt({
  recommendation: queuedRecommendation(signal),
  signal,
  recentCandles: candles,
});

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
});
afterAll(async () => {
  await ollama.close();
});
beforeEach(() => {
  ollama.reset();
});

function client(overrides: Partial<Parameters<typeof createOllamaVerdictClient>[0]> = {}) {
  return createOllamaVerdictClient({
    host: ollama.host,
    model: MODEL,
    timeoutMs: 2_000,
    seed: 7,
    ...overrides,
  });
}

describe("createOllamaVerdictClient", () => {
  it("sends the prompt with the verdict schema as format, temperature 0, the seed and stream false", async () => {
    ollama.script({ kind: "approve", confidence: 0.66, reasoning: "Trend and features agree." });
    const answer = await client({ numCtx: 2048, numPredict: 300, keepAlive: "10m" }).ask(prompt);

    expect(answer.verdict).toEqual({
      decision: "APPROVE",
      confidence: 0.66,
      reasoning: "Trend and features agree.",
      risk_assessment: { level: "MEDIUM", factors: ["moderate volatility"] },
    });
    expect(JSON.parse(answer.rawAnswer)).toEqual(answer.verdict);
    expect(answer.model).toBe(MODEL);
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(answer.metrics?.evalCount).toBeGreaterThan(0);

    const [body] = ollama.chatRequests();
    expect(body.model).toBe(MODEL);
    expect(body.stream).toBe(false);
    expect(body.format).toEqual(VERDICT_JSON_SCHEMA);
    expect(body.options).toEqual({ temperature: 0, seed: 7, num_ctx: 2048, num_predict: 300 });
    expect(body.keep_alive).toBe("10m");
    expect(body.messages).toEqual([
      { role: "system", content: prompt.system },
      { role: "user", content: prompt.user },
    ]);
    const headers = ollama.requests[0].headers;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toMatch(/^ollama-js\//);
  });

  it("returns a REJECT verdict as the model gave it", async () => {
    ollama.script("reject");
    const { verdict } = await client().ask(prompt);
    expect(verdict.decision).toBe("REJECT");
    expect(verdict.risk_assessment.level).toBe("HIGH");
  });

  it("defaults to seed 42, num_ctx 4096, num_predict 512 and keep_alive 30m", async () => {
    await createOllamaVerdictClient({ host: ollama.host, model: MODEL, timeoutMs: 2_000 }).ask(prompt);
    const [body] = ollama.chatRequests();
    expect(body.options).toEqual({ temperature: 0, seed: 42, num_ctx: 4096, num_predict: 512 });
    expect(body.keep_alive).toBe("30m");
  });

  it.each([
    ["malformed-json", /not JSON/],
    ["wrong-schema", /does not match the verdict schema.*decision/],
    ["truncated", /cut at the token limit.*numPredict/],
  ] as const)("refuses a %s answer with LlmAnswerInvalidError", async (kind, problem) => {
    ollama.script(kind);
    const err = await client()
      .ask(prompt)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmAnswerInvalidError);
    const e = err as LlmAnswerInvalidError;
    expect(e.problem).toMatch(problem);
    expect(e.rawAnswer.length).toBeGreaterThan(0);
    expect(e.message).toContain(MODEL);
    expect(e.message).toContain(ollama.host);
  });

  it("refuses a schema-shaped answer whose numbers are out of range", async () => {
    ollama.script({
      kind: "content",
      content: JSON.stringify({
        decision: "APPROVE",
        confidence: 1.5,
        reasoning: "fine",
        risk_assessment: { level: "LOW", factors: [] },
      }),
    });
    await expect(client().ask(prompt)).rejects.toThrow(/confidence/);
  });

  it("refuses a verdict whose reasoning is blank", async () => {
    ollama.script({
      kind: "content",
      content: JSON.stringify({
        decision: "REJECT",
        confidence: 0.9,
        reasoning: "   ",
        risk_assessment: { level: "HIGH", factors: [] },
      }),
    });
    await expect(client().ask(prompt)).rejects.toThrow(/reasoning is blank/);
  });

  it("refuses an empty answer", async () => {
    ollama.script({ kind: "content", content: "" });
    await expect(client().ask(prompt)).rejects.toBeInstanceOf(LlmAnswerInvalidError);
  });

  it("maps 404 to LlmModelNotFoundError with the pull hint", async () => {
    const err = await client({ model: "llama9:70b" })
      .ask(prompt)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmModelNotFoundError);
    expect((err as Error).message).toContain("ollama pull llama9:70b");
    expect((err as Error).message).toContain("model 'llama9:70b' not found");

    ollama.script("model-not-found");
    await expect(client().ask(prompt)).rejects.toBeInstanceOf(LlmModelNotFoundError);
  });

  it("maps 503 busy and 500 to LlmUnavailableError", async () => {
    ollama.script("busy", "server-error");
    const busy = (await client()
      .ask(prompt)
      .catch((e: unknown) => e)) as LlmUnavailableError;
    expect(busy).toBeInstanceOf(LlmUnavailableError);
    expect(busy.reason).toBe("busy");
    expect(busy.statusCode).toBe(503);
    expect(busy.message).toContain("maximum pending requests exceeded");

    const crashed = (await client()
      .ask(prompt)
      .catch((e: unknown) => e)) as LlmUnavailableError;
    expect(crashed).toBeInstanceOf(LlmUnavailableError);
    expect(crashed.reason).toBe("server-error");
    expect(crashed.statusCode).toBe(500);
  });

  it("enforces the timeout: a slow answer fails fast with reason timeout", async () => {
    ollama.script({ kind: "slow", delayMs: 3_000 });
    const started = performance.now();
    const err = (await client({ timeoutMs: 200 })
      .ask(prompt)
      .catch((e: unknown) => e)) as LlmUnavailableError;
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(LlmUnavailableError);
    expect(err.reason).toBe("timeout");
    expect(err.message).toContain("200 ms");
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_500);
  });

  it("waits for a slow answer that arrives within the timeout", async () => {
    ollama.script({ kind: "slow", delayMs: 150, after: { kind: "reject" } });
    const answer = await client({ timeoutMs: 2_000 }).ask(prompt);
    expect(answer.verdict.decision).toBe("REJECT");
    expect(answer.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it("maps connection refused to LlmUnavailableError with the host", async () => {
    const host = await closedPortHost();
    const err = (await createOllamaVerdictClient({ host, model: MODEL, timeoutMs: 1_000 })
      .ask(prompt)
      .catch((e: unknown) => e)) as LlmUnavailableError;
    expect(err).toBeInstanceOf(LlmUnavailableError);
    expect(err.reason).toBe("connection");
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.message).toContain(host);
  });

  it("maps a 400 to LlmRequestRejectedError and a non-Ollama 200 body to LlmUnavailableError", async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(400, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "phi3:3.8b does not support thinking" }));
      } else {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html>proxy login</html>");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = createOllamaVerdictClient({ host, model: MODEL, timeoutMs: 1_000 });
    try {
      const rejected = await c.ask(prompt).catch((e: unknown) => e);
      expect(rejected).toBeInstanceOf(LlmRequestRejectedError);
      expect((rejected as LlmRequestRejectedError).statusCode).toBe(400);
      expect((rejected as Error).message).toContain("does not support thinking");

      const notOllama = await c.ask(prompt).catch((e: unknown) => e);
      expect(notOllama).toBeInstanceOf(LlmUnavailableError);
      expect((notOllama as LlmUnavailableError).reason).toBe("not-ollama");
      expect((notOllama as Error).message).toContain("OLLAMA_HOST");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("refuses an invalid configuration with every problem named", () => {
    expect(() =>
      createOllamaVerdictClient({ host: "http://127.0.0.1:11434", model: " ", timeoutMs: 0 }),
    ).toThrow(/model is empty.*timeoutMs 0/);
  });
});

describe("VERDICT_JSON_SCHEMA", () => {
  it("has the same fields and required keys as the zod LlmVerdict", () => {
    const fromZod = z.toJSONSchema(LlmVerdict) as {
      properties: Record<string, { properties?: object; required?: string[]; enum?: string[] }>;
      required: string[];
    };
    expect(Object.keys(VERDICT_JSON_SCHEMA.properties).sort()).toEqual(
      Object.keys(fromZod.properties).sort(),
    );
    expect([...VERDICT_JSON_SCHEMA.required].sort()).toEqual([...fromZod.required].sort());
    expect(VERDICT_JSON_SCHEMA.properties.decision.enum).toEqual(fromZod.properties.decision.enum);
    const risk = fromZod.properties.risk_assessment;
    expect(Object.keys(VERDICT_JSON_SCHEMA.properties.risk_assessment.properties).sort()).toEqual(
      Object.keys(risk.properties ?? {}).sort(),
    );
    expect([...VERDICT_JSON_SCHEMA.properties.risk_assessment.required].sort()).toEqual(
      [...(risk.required ?? [])].sort(),
    );
  });
});

describe("checkOllamaHealth", () => {
  it("reports reachable with the model present", async () => {
    expect(await checkOllamaHealth(ollama.host, MODEL, 1_000)).toEqual({
      reachable: true,
      modelPresent: true,
      message: expect.stringContaining(MODEL),
    });
    expect(ollama.requests.at(-1)?.path).toBe("/api/tags");
  });

  it("reports a missing model with the pull command and what is there", async () => {
    const health = await checkOllamaHealth(ollama.host, "mistral", 1_000);
    expect(health.reachable).toBe(true);
    expect(health.modelPresent).toBe(false);
    expect(health.message).toContain("ollama pull mistral");
    expect(health.message).toContain("phi3:3.8b");
  });

  it("matches an untagged model name against :latest", async () => {
    const other = await startFakeOllama({ models: ["phi3:latest"] });
    try {
      expect((await checkOllamaHealth(other.host, "phi3", 1_000)).modelPresent).toBe(true);
    } finally {
      await other.close();
    }
  });

  it("reports an unreachable host without throwing", async () => {
    const host = await closedPortHost();
    const health = await checkOllamaHealth(host, MODEL, 500);
    expect(health).toEqual({ reachable: false, modelPresent: false, message: expect.stringContaining(host) });
  });
});

async function closedPortHost(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}
