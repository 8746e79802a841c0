/**
 * Every way asking the LLM can fail is one of these errors. There is no fallback: the caller lets
 * them propagate so the queue retries the message and finally dead-letters it, and the
 * recommendation stays QUEUED (nothing approved, nothing lost).
 */

export type LlmFailureKind = "unavailable" | "model-not-found" | "answer-invalid" | "request-rejected";

export abstract class LlmError extends Error {
  abstract readonly kind: LlmFailureKind;
  constructor(
    message: string,
    readonly host: string,
    readonly model: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type UnavailableReason = "connection" | "timeout" | "busy" | "server-error" | "not-ollama";

/** Ollama could not be reached, did not answer in time, was busy or failed on its side. Retrying may help. */
export class LlmUnavailableError extends LlmError {
  override readonly name = "LlmUnavailableError";
  readonly kind = "unavailable";
  constructor(
    host: string,
    model: string,
    readonly reason: UnavailableReason,
    detail: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(`${describeUnavailable(host, model, reason, detail)}`, host, model, options);
  }
}

function describeUnavailable(host: string, model: string, reason: UnavailableReason, detail: string): string {
  switch (reason) {
    case "connection":
      return (
        `Ollama at ${host} is unreachable (${detail}) while validating with model ${model}. ` +
        `Start it (\`ollama serve\`) or set OLLAMA_HOST to the address it listens on; the message will be retried.`
      );
    case "timeout":
      return (
        `Ollama at ${host} did not answer for model ${model} within ${detail}. ` +
        "The model may be loading cold or the GPU is saturated: raise the LLM timeout (and the queue's " +
        "visibility timeout with it) or check the Ollama task; the message will be retried."
      );
    case "busy":
      return (
        `Ollama at ${host} refused the request for model ${model} because its queue is full (${detail}). ` +
        "Lower the validator's concurrency or raise OLLAMA_MAX_QUEUE; the message will be retried."
      );
    case "server-error":
      return (
        `Ollama at ${host} failed while answering with model ${model} (${detail}). ` +
        "Check the Ollama server log (runner crash, out of GPU memory); the message will be retried."
      );
    case "not-ollama":
      return (
        `The server at ${host} answered, but not like Ollama (${detail}). ` +
        "Check that OLLAMA_HOST points at an Ollama server (default port 11434)."
      );
  }
}

/** The model is not pulled on the Ollama host. Retrying will not help until someone pulls it. */
export class LlmModelNotFoundError extends LlmError {
  override readonly name = "LlmModelNotFoundError";
  readonly kind = "model-not-found";
  constructor(host: string, model: string, serverMessage: string, options?: { cause?: unknown }) {
    super(
      `Ollama at ${host} does not have model ${model} (server said: ${serverMessage}). ` +
        `Run \`ollama pull ${model}\` on the Ollama host (or bake it into its image), or set OLLAMA_MODEL ` +
        "to a model listed by `ollama list`.",
      host,
      model,
      options,
    );
  }
}

/** The model answered, but its answer is not a complete verdict matching the schema. */
export class LlmAnswerInvalidError extends LlmError {
  override readonly name = "LlmAnswerInvalidError";
  readonly kind = "answer-invalid";
  constructor(
    host: string,
    model: string,
    readonly problem: string,
    readonly rawAnswer: string,
    readonly doneReason: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `Model ${model} on ${host} gave an unusable verdict: ${problem}. Answer began with ${JSON.stringify(
        rawAnswer.slice(0, 200),
      )}. Nothing was approved or rejected; the message will be retried. If this repeats, check that the ` +
        "Ollama version supports JSON-schema `format`, raise numPredict if the answer was cut, or try another model.",
      host,
      model,
      options,
    );
  }
}

/** Ollama refused the request itself (4xx other than 404): a configuration problem on our side. */
export class LlmRequestRejectedError extends LlmError {
  override readonly name = "LlmRequestRejectedError";
  readonly kind = "request-rejected";
  constructor(
    host: string,
    model: string,
    readonly statusCode: number,
    serverMessage: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Ollama at ${host} rejected the request for model ${model} with HTTP ${statusCode}: ${serverMessage}. ` +
        "Check the model supports structured outputs and the client options (numCtx, keepAlive).",
      host,
      model,
      options,
    );
  }
}
