/**
 * The LLM validator as a long-running worker in a container beside Ollama on the GPU task:
 * long-polls the validation queue until ECS stops the task (SIGTERM), finishing the batch in hand.
 * A batch is at most OLLAMA_NUM_PARALLEL messages, validated side by side (consumer.ts).
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { checkOllamaHealth } from "#llm/index.js";
import { pollForever } from "#queues/poller.js";
import { createValidationConsumer, validationPollOptions } from "./consumer.js";

const queueUrl = process.env.VALIDATION_QUEUE_URL;
const queueArn = process.env.VALIDATION_QUEUE_ARN ?? "arn:aws:sqs:unknown:validation";
if (!queueUrl) {
  throw new Error(
    "VALIDATION_QUEUE_URL is not set: the worker needs the validation queue's URL (the LLM stack sets it).",
  );
}

const { handler, logger, config } = createValidationConsumer();
const health = await checkOllamaHealth(config.OLLAMA_HOST, config.OLLAMA_MODEL, 10_000);
logger.info("validator worker starting", {
  ollama: health,
  model: config.OLLAMA_MODEL,
  queueUrl,
  parallelRequests: config.OLLAMA_NUM_PARALLEL,
  requestTimeoutMs: config.OLLAMA_TIMEOUT_MS,
});

const stop = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    logger.info(`received ${signal}: finishing the current batch, then stopping`);
    stop.abort();
  });
}

const pollOptions = validationPollOptions(config, { url: queueUrl, arn: queueArn }, handler);
await pollForever(new SQSClient({}), pollOptions, stop.signal, (error) =>
  logger.error("polling the validation queue failed; retrying in 5 s", error as Error),
);
logger.info("validator worker stopped");
