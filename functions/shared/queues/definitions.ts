/**
 * Every SQS queue of the chain, in ONE place: the CDK stacks and the local cloud build them
 * (with their dead-letter queues and redrive policies) from these definitions.
 *
 * Standard (not FIFO) queues: ordering is not what keeps trades single. The recommendation state
 * machine (conditional writes) and the deterministic client_order_id do, for every delivery, which
 * a FIFO 5-minute dedup window would not. The risk manager runs with reserved concurrency 1 so two
 * approvals never see the same exposure (see docs/ARCHITECTURE.md).
 */

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
}

export const QUEUES: Readonly<Record<QueueId, QueueDefinition>> = {
  validation: {
    id: "validation",
    urlEnvVar: "VALIDATION_QUEUE_URL",
    // a cold Ollama load plus a generation; the worker container uses the same budget
    consumerTimeoutSeconds: 120,
    maxReceiveCount: 3,
    messageRetentionDays: 4,
    consumer: "llm-validator",
  },
  risk: {
    id: "risk",
    urlEnvVar: "RISK_QUEUE_URL",
    consumerTimeoutSeconds: 30,
    // reserved concurrency 1 under an event source that polls with 2: a burst throttles batches,
    // and a throttled delivery still counts as a receive, so allow more before dead-lettering
    maxReceiveCount: 8,
    messageRetentionDays: 4,
    consumer: "risk-manager",
  },
  execution: {
    id: "execution",
    urlEnvVar: "EXECUTION_QUEUE_URL",
    consumerTimeoutSeconds: 60,
    maxReceiveCount: 5,
    messageRetentionDays: 4,
    consumer: "trade-executor",
  },
};

export const QUEUE_LIST: readonly QueueDefinition[] = Object.values(QUEUES);

/** SQS caps the visibility timeout at 12 hours; 6x the consumer's timeout per AWS guidance for Lambda. */
export function visibilityTimeoutSeconds(q: QueueDefinition): number {
  return Math.min(6 * q.consumerTimeoutSeconds, 43_200);
}

export function queueName(id: QueueId, prefix = "trading"): string {
  return `${prefix}-${id}`;
}

export function deadLetterQueueName(id: QueueId, prefix = "trading"): string {
  return `${prefix}-${id}-dlq`;
}
