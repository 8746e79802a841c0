/**
 * Asks Ollama for a verdict through the official `ollama` client. Every failure is a thrown
 * LlmError; there is deliberately no path that produces a verdict without the model.
 */
import { type ChatResponse, Ollama } from "ollama";
import { LlmVerdict } from "#domain/schemas.js";
import {
  LlmAnswerInvalidError,
  LlmError,
  LlmModelNotFoundError,
  LlmRequestRejectedError,
  LlmUnavailableError,
} from "./errors.js";
import type { ValidationPrompt } from "./prompt.js";
import { VERDICT_JSON_SCHEMA } from "./verdict-schema.js";

export interface OllamaVerdictClientConfig {
  /** e.g. http://127.0.0.1:11434 */
  host: string;
  /** e.g. phi3:3.8b */
  model: string;
  /** per request, covering connect, generation and reading the answer */
  timeoutMs: number;
  /** default 42; with temperature 0 the same prompt gives the same answer on the same server */
  seed?: number;
  /** default "30m": keeps the model loaded between validations */
  keepAlive?: string | number;
  /** context window in tokens, default 4096 */
  numCtx?: number;
  /** cap on answer tokens, default 512; an answer cut by it is refused (done_reason "length") */
  numPredict?: number;
}

export interface OllamaMetrics {
  totalDurationMs?: number;
  loadDurationMs?: number;
  promptEvalCount?: number;
  evalCount?: number;
  tokensPerSecond?: number;
}

export interface VerdictAnswer {
  verdict: LlmVerdict;
  /** the model's answer exactly as received, stored for audit */
  rawAnswer: string;
  /** wall-clock time of the whole request as seen by the client */
  latencyMs: number;
  model: string;
  metrics?: OllamaMetrics;
}

/** The port the validation use case asks; implemented here on Ollama and by fakes in tests. */
export interface VerdictSource {
  ask(prompt: ValidationPrompt): Promise<VerdictAnswer>;
}

export interface OllamaVerdictClient extends VerdictSource {
  readonly host: string;
  readonly model: string;
}

export const OLLAMA_DEFAULTS = { seed: 42, keepAlive: "30m", numCtx: 4096, numPredict: 512 } as const;

export function createOllamaVerdictClient(config: OllamaVerdictClientConfig): OllamaVerdictClient {
  assertConfig(config);
  const { host, model, timeoutMs } = config;
  const client = new Ollama({ host, fetch: fetchWithTimeout(timeoutMs) });
  const options = {
    temperature: 0,
    seed: config.seed ?? OLLAMA_DEFAULTS.seed,
    num_ctx: config.numCtx ?? OLLAMA_DEFAULTS.numCtx,
    num_predict: config.numPredict ?? OLLAMA_DEFAULTS.numPredict,
  };
  const keepAlive = config.keepAlive ?? OLLAMA_DEFAULTS.keepAlive;

  return {
    host,
    model,
    async ask(prompt: ValidationPrompt): Promise<VerdictAnswer> {
      const started = performance.now();
      let response: ChatResponse;
      try {
        response = await client.chat({
          model,
          messages: [
            { role: "system", content: prompt.system },
            { role: "user", content: prompt.user },
          ],
          stream: false,
          format: VERDICT_JSON_SCHEMA,
          options,
          keep_alive: keepAlive,
        });
      } catch (err) {
        throw toLlmError(err, host, model, timeoutMs);
      }
      const latencyMs = Math.round(performance.now() - started);
      const { verdict, rawAnswer } = parseVerdict(response, host, model);
      return { verdict, rawAnswer, latencyMs, model: response.model || model, metrics: metricsOf(response) };
    },
  };
}

function parseVerdict(
  response: ChatResponse,
  host: string,
  model: string,
): { verdict: LlmVerdict; rawAnswer: string } {
  const content: unknown = response?.message?.content;
  const doneReason = typeof response?.done_reason === "string" ? response.done_reason : undefined;
  if (typeof content !== "string") {
    throw new LlmAnswerInvalidError(host, model, "the response has no message content", "", doneReason);
  }
  if (doneReason === "length") {
    throw new LlmAnswerInvalidError(
      host,
      model,
      'the answer was cut at the token limit (done_reason "length"); raise numPredict or numCtx',
      content,
      doneReason,
    );
  }
  if (content.trim() === "") {
    throw new LlmAnswerInvalidError(
      host,
      model,
      `the answer is empty (done_reason ${doneReason})`,
      content,
      doneReason,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    throw new LlmAnswerInvalidError(
      host,
      model,
      `the answer is not JSON (${(err as Error).message})`,
      content,
      doneReason,
      {
        cause: err,
      },
    );
  }
  const parsed = LlmVerdict.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new LlmAnswerInvalidError(
      host,
      model,
      `the answer does not match the verdict schema (${issues})`,
      content,
      doneReason,
      {
        cause: parsed.error,
      },
    );
  }
  if (parsed.data.reasoning.trim() === "") {
    throw new LlmAnswerInvalidError(host, model, "the reasoning is blank", content, doneReason);
  }
  return { verdict: parsed.data, rawAnswer: content };
}

function metricsOf(r: ChatResponse): OllamaMetrics {
  const ms = (ns: unknown) => (typeof ns === "number" ? Math.round(ns / 1e6) : undefined);
  const evalCount = typeof r.eval_count === "number" ? r.eval_count : undefined;
  const evalNs = typeof r.eval_duration === "number" ? r.eval_duration : undefined;
  return {
    totalDurationMs: ms(r.total_duration),
    loadDurationMs: ms(r.load_duration),
    promptEvalCount: typeof r.prompt_eval_count === "number" ? r.prompt_eval_count : undefined,
    evalCount,
    tokensPerSecond:
      evalCount !== undefined && evalNs ? Math.round((evalCount / evalNs) * 1e9 * 10) / 10 : undefined,
  };
}

export interface OllamaHealth {
  reachable: boolean;
  modelPresent: boolean;
  message: string;
}

/** Never throws: reports whether Ollama answers /api/tags and lists the model. */
export async function checkOllamaHealth(
  host: string,
  model: string,
  timeoutMs: number,
): Promise<OllamaHealth> {
  const client = new Ollama({ host, fetch: fetchWithTimeout(timeoutMs) });
  let names: string[];
  try {
    const list = await client.list();
    names = list.models.map((m) => m.name ?? m.model);
  } catch (err) {
    const e = toLlmError(err, host, model, timeoutMs);
    return { reachable: false, modelPresent: false, message: e.message };
  }
  const wanted = withDefaultTag(model);
  if (names.some((n) => withDefaultTag(n) === wanted)) {
    return {
      reachable: true,
      modelPresent: true,
      message: `Ollama at ${host} is up and has model ${model}.`,
    };
  }
  return {
    reachable: true,
    modelPresent: false,
    message:
      `Ollama at ${host} is up but does not have model ${model} ` +
      `(it has: ${names.length ? names.join(", ") : "no models"}). Run \`ollama pull ${model}\` on the Ollama host.`,
  };
}

function withDefaultTag(model: string): string {
  return model.includes(":") ? model : `${model}:latest`;
}

/** The ollama client has no timeout; this fetch gives every request its own deadline. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return fetch(input, { ...init, signal });
  };
}

/** Maps whatever the ollama client or fetch threw onto a typed, actionable LlmError. */
export function toLlmError(err: unknown, host: string, model: string, timeoutMs: number): LlmError {
  if (err instanceof LlmError) return err;
  const e = err as {
    name?: string;
    message?: string;
    status_code?: unknown;
    error?: unknown;
    cause?: unknown;
  };
  if (e?.name === "ResponseError" && typeof e.status_code === "number") {
    const status = e.status_code;
    const serverMessage = typeof e.error === "string" ? e.error : String(e.message);
    if (status === 404) return new LlmModelNotFoundError(host, model, serverMessage, { cause: err });
    if (status === 503)
      return new LlmUnavailableError(host, model, "busy", `HTTP 503: ${serverMessage}`, status, {
        cause: err,
      });
    if (status >= 500) {
      return new LlmUnavailableError(
        host,
        model,
        "server-error",
        `HTTP ${status}: ${serverMessage}`,
        status,
        { cause: err },
      );
    }
    return new LlmRequestRejectedError(host, model, status, serverMessage, { cause: err });
  }
  if (e?.name === "TimeoutError") {
    return new LlmUnavailableError(host, model, "timeout", `${timeoutMs} ms`, undefined, { cause: err });
  }
  if (e?.name === "SyntaxError") {
    return new LlmUnavailableError(
      host,
      model,
      "not-ollama",
      `its body is not JSON: ${e.message}`,
      undefined,
      {
        cause: err,
      },
    );
  }
  const code = networkCode(err);
  return new LlmUnavailableError(host, model, "connection", code ?? String(e?.message ?? err), undefined, {
    cause: err,
  });
}

function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const c = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof c.code === "string") return c.code;
    if (Array.isArray(c.errors) && c.errors.length > 0) current = c.errors[0];
    else current = c.cause;
  }
  return undefined;
}

function assertConfig(config: OllamaVerdictClientConfig): void {
  const problems: string[] = [];
  try {
    new URL(config.host.includes("://") ? config.host : `http://${config.host}`);
  } catch {
    problems.push(`host ${JSON.stringify(config.host)} is not a URL such as http://127.0.0.1:11434`);
  }
  if (!config.model?.trim()) problems.push("model is empty (e.g. phi3:3.8b)");
  if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0) {
    problems.push(`timeoutMs ${config.timeoutMs} must be a positive whole number of milliseconds`);
  }
  if (config.seed !== undefined && !Number.isInteger(config.seed))
    problems.push(`seed ${config.seed} must be an integer`);
  if (problems.length > 0)
    throw new Error(`Invalid Ollama verdict client configuration: ${problems.join("; ")}.`);
}
