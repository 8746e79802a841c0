/**
 * Every SQS queue of the chain, in ONE place: the CDK stacks and the local cloud build them
 * (with their dead-letter queues and redrive policies) from these definitions.
 *
 * Validation and execution are standard queues: ordering is not what keeps trades single. The
 * recommendation state machine (conditional writes) and the deterministic client_order_id do, for
 * every delivery, which a FIFO 5-minute dedup window would not.
 *
 * The risk queue is FIFO with every message in ONE message group, so the risk manager assesses one
 * recommendation at a time and two approvals never see the same exposure. Lambda invokes a FIFO
 * event source at most once per active message group, so this serialises without reserved
 * concurrency (which needs an account quota of at least 101) and without throttling a polling
 * event source (see docs/ARCHITECTURE.md).
 */

import { hash } from "node:crypto";
import { validatorCapacity } from "./validator-capacity.js";

export type QueueId = "validation" | "risk" | "execution";

export interface QueueDefinition {
  readonly id: QueueId;
  /** environment variable carrying the queue URL to producers */
  readonly urlEnvVar: string;
  /** the consumer's timeout in seconds; the queue's visibility timeout is 6x it */
  readonly consumerTimeoutSeconds: number;
  /** deliveries before a message moves to the dead-letter queue */
  readonly maxReceiveCount: number;
  readonly messageRetentionDays: number;
  readonly consumer: string;
  /**
   * FIFO: every message in one group (SERIAL_MESSAGE_GROUP_ID), deduplicated by recommendation id,
   * so the consumer sees one message at a time. The names of the queue and its DLQ end in .fifo.
   */
  readonly fifo: boolean;
}

/** the one message group of a FIFO chain queue: one recommendation at a time, in send order */
export const SERIAL_MESSAGE_GROUP_ID = "one-at-a-time";

export const QUEUES: Readonly<Record<QueueId, QueueDefinition>> = {
  validation: {
    id: "validation",
    urlEnvVar: "VALIDATION_QUEUE_URL",
    // a cold Ollama load plus a generation per parallel request, plus the store calls: the worker's
    // batch budget at the default capacity (the LLM stack sizes the deployed queue from its own)
    consumerTimeoutSeconds: validatorCapacity().batchBudgetSeconds,
    maxReceiveCount: 3,
    messageRetentionDays: 4,
    consumer: "llm-validator",
    fifo: false,
  },
  risk: {
    id: "risk",
    urlEnvVar: "RISK_QUEUE_URL",
    consumerTimeoutSeconds: 30,
    // a failing message holds up its group (every risk message) until it succeeds or is
    // dead-lettered: 3 receives x 180 s visibility = 9 minutes at most
    maxReceiveCount: 3,
    messageRetentionDays: 4,
    consumer: "risk-manager",
    fifo: true,
  },
  execution: {
    id: "execution",
    urlEnvVar: "EXECUTION_QUEUE_URL",
    consumerTimeoutSeconds: 60,
    maxReceiveCount: 5,
    messageRetentionDays: 4,
    consumer: "trade-executor",
    fifo: false,
  },
};

export const QUEUE_LIST: readonly QueueDefinition[] = Object.values(QUEUES);

/** SQS caps the visibility timeout at 12 hours; 6x the consumer's timeout per AWS guidance for Lambda. */
export function visibilityTimeoutSeconds(q: QueueDefinition): number {
  return Math.min(6 * q.consumerTimeoutSeconds, 43_200);
}

const fifoSuffix = (id: QueueId) => (QUEUES[id].fifo ? ".fifo" : "");

export function queueName(id: QueueId, prefix = "trading"): string {
  return `${prefix}-${id}${fifoSuffix(id)}`;
}

/** A FIFO queue's dead-letter queue must be FIFO too. */
export function deadLetterQueueName(id: QueueId, prefix = "trading"): string {
  return `${prefix}-${id}-dlq${fifoSuffix(id)}`;
}

/** SQS names (and so URLs) of FIFO queues always end in .fifo. */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return queueUrl.endsWith(".fifo");
}

/**
 * What SendMessage needs on a FIFO chain queue: the one message group and the recommendation id as
 * deduplication id (a producer retried within 5 minutes sends nothing twice). Nothing for a
 * standard queue, which refuses both.
 */
export function fifoMessageFields(
  queueUrl: string,
  recommendationId: string,
): { MessageGroupId: string; MessageDeduplicationId: string } | Record<string, never> {
  if (!isFifoQueueUrl(queueUrl)) return {};
  return {
    MessageGroupId: SERIAL_MESSAGE_GROUP_ID,
    MessageDeduplicationId: deduplicationId(recommendationId),
  };
}

/** SQS takes 1-128 printable ASCII characters; any other id is replaced by its SHA-256 (still one per id). */
export function deduplicationId(recommendationId: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(recommendationId) ? recommendationId : hash("sha256", recommendationId);
}
