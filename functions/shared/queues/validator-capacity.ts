/**
 * How much the LLM validator takes on at once, as ONE number: the parallel requests Ollama serves
 * on the GPU (OLLAMA_NUM_PARALLEL). The worker receives at most that many messages per batch and
 * validates them side by side, so no request ever waits for a free slot while its timeout runs;
 * the request timeout, the time a batch may take and the validation queue's visibility timeout
 * all follow from it. The CDK stack sets every one of them from this function (context
 * `llmParallelRequests`); CDK-free so the worker and the tests share it.
 */

export const DEFAULT_LLM_PARALLEL_REQUESTS = 1;
export const MAX_LLM_PARALLEL_REQUESTS = 8;

/** a cold model load onto the GPU (the entrypoint preloads it; a restarted runner may load again) */
export const MODEL_LOAD_ALLOWANCE_SECONDS = 60;
/** one verdict (~200 tokens of phi3:3.8b on a T4), per request sharing the GPU */
export const GENERATION_ALLOWANCE_SECONDS = 30;
/** reading the recommendation, signal and candles, writing the decision, sending to risk */
export const STORE_ALLOWANCE_SECONDS = 30;

export interface ValidatorCapacity {
  /** OLLAMA_NUM_PARALLEL on the Ollama container and on the worker */
  readonly parallelRequests: number;
  /** messages per ReceiveMessage; the worker validates a batch concurrently */
  readonly receiveBatchSize: number;
  /** OLLAMA_TIMEOUT_MS of the worker: a load plus every request of the batch generating side by side */
  readonly ollamaTimeoutMs: number;
  /** the longest a batch may take: the request timeout plus the store calls around it */
  readonly batchBudgetSeconds: number;
  /** the validation queue's: 6x the batch budget, as for a Lambda consumer */
  readonly visibilityTimeoutSeconds: number;
}

export function validatorCapacity(parallelRequests = DEFAULT_LLM_PARALLEL_REQUESTS): ValidatorCapacity {
  if (
    !Number.isInteger(parallelRequests) ||
    parallelRequests < 1 ||
    parallelRequests > MAX_LLM_PARALLEL_REQUESTS
  ) {
    throw new RangeError(
      `llmParallelRequests must be a whole number from 1 to ${MAX_LLM_PARALLEL_REQUESTS}, got ${parallelRequests}: ` +
        "it is how many validations one GPU runs side by side (OLLAMA_NUM_PARALLEL).",
    );
  }
  const requestSeconds = MODEL_LOAD_ALLOWANCE_SECONDS + GENERATION_ALLOWANCE_SECONDS * parallelRequests;
  const batchBudgetSeconds = requestSeconds + STORE_ALLOWANCE_SECONDS;
  return {
    parallelRequests,
    receiveBatchSize: parallelRequests,
    ollamaTimeoutMs: requestSeconds * 1000,
    batchBudgetSeconds,
    visibilityTimeoutSeconds: Math.min(6 * batchBudgetSeconds, 43_200),
  };
}
