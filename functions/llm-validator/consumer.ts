/**
 * The validation queue's consumer: an SQS batch handler around the validation use case. The ECS
 * worker (worker.ts) and the local runner feed it messages; it could equally be a Lambda handler.
 */
import { type Config, loadConfig } from "#config";
import { ValidationRequest } from "#domain/schemas.js";
import { createOllamaVerdictClient } from "#llm/index.js";
import type { PollOptions, SqsEventHandler } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";
import { eventPublisherFromEnv, publishStored } from "#runtime/event-bus.js";
import { createLogger, createMetrics } from "#runtime/observability.js";
import { recordValidation } from "#runtime/pipeline-metrics.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { llmDecidedEvents } from "#steps/chain-events.js";
import { validateRecommendation } from "#steps/validate-recommendation.js";
import { createStores } from "#store/dynamo/index.js";

export function createValidationConsumer(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(env);
  const logger = createLogger("llm-validator");
  const metrics = createMetrics("llm-validator");
  const stores = createStores(undefined, env);
  const verdicts = createOllamaVerdictClient({
    host: config.OLLAMA_HOST,
    model: config.OLLAMA_MODEL,
    timeoutMs: config.OLLAMA_TIMEOUT_MS,
    seed: config.OLLAMA_SEED,
  });
  const sendToRisk = queueSender(env.RISK_QUEUE_URL, "RISK_QUEUE_URL");
  const events = eventPublisherFromEnv(logger, env.EVENT_BUS_NAME);
  const handler = sqsHandler({
    queue: "validation",
    schema: ValidationRequest,
    logger,
    process: async (message) => {
      const result = await validateRecommendation(
        { ...stores, verdicts, sendToRisk, now: () => new Date(), log: logger },
        message,
      );
      recordValidation(metrics, result);
      await publishStored(events, llmDecidedEvents(message.recommendationId, result, new Date()), logger);
      return result;
    },
  });
  return { handler, logger, config };
}

/**
 * How the worker polls: at most OLLAMA_NUM_PARALLEL messages per receive. The batch handler
 * validates a batch side by side, so this is also the worker's concurrency, and it matches
 * Ollama's parallel slots: no request waits for a slot while its OLLAMA_TIMEOUT_MS runs, and
 * after a cold start the backlog stays on the queue (unreceived, no retry spent) instead of
 * piling onto one GPU.
 */
export function validationPollOptions(
  config: Pick<Config, "OLLAMA_NUM_PARALLEL">,
  queue: { url: string; arn: string },
  handler: SqsEventHandler,
): PollOptions {
  return { queueUrl: queue.url, queueArn: queue.arn, handler, maxMessages: config.OLLAMA_NUM_PARALLEL };
}
