/**
 * The chain's three queues (validation, risk, execution) as the pipeline sees them: send a message,
 * drain what is queued through a Lambda-style SQS batch handler. Two transports:
 *
 * - `sqsChainQueues`: the local cloud's real SQS (local-aws-sqs), polled as a Lambda event source
 *   would (queues/poller.ts): what `npm start` and `npm run local` use.
 * - `inProcessChainQueues`: arrays in this process, for the step-driven backtest, where one replay
 *   pushes thousands of messages. Each keeps what the pipeline relies on from SQS: a message is
 *   validated against its schema when sent; a FIFO queue (risk) drops a second message with the same
 *   recommendation id within its 5-minute deduplication window and hands its consumer one message at
 *   a time, in send order; a failed record comes back with its receive count raised, and after the
 *   queue's maxReceiveCount it moves to the dead-letter list instead.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { QueueMessage } from "#domain/schemas.js";
import { deduplicationId, QUEUES, type QueueId } from "#queues/definitions.js";
import { drainQueue, type SqsEventHandler } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";

export interface DrainResult {
  /** records handed to the consumer (a redelivery counts again) */
  received: number;
  /** records the consumer reported as failed */
  failed: number;
}

export interface ChainQueue {
  send(message: QueueMessage): Promise<void>;
  /** Hands everything queued to `handler` until the queue is empty (failures retried, then dead-lettered). */
  drain(handler: SqsEventHandler): Promise<DrainResult>;
}

export type ChainQueues = Readonly<Record<QueueId, ChainQueue>>;

/** The local cloud's SQS queues. */
export function sqsChainQueues(
  sqs: SQSClient,
  queues: Readonly<Record<QueueId, { url: string; arn: string }>>,
): ChainQueues {
  const one = (id: QueueId): ChainQueue => ({
    send: queueSender(queues[id].url, QUEUES[id].urlEnvVar, sqs),
    drain: (handler) =>
      drainQueue(sqs, {
        queueUrl: queues[id].url,
        queueArn: queues[id].arn,
        handler,
        // locally a failed message comes back at once; after maxReceiveCount it moves to the DLQ
        retryDelaySeconds: 0,
      }),
  });
  return { validation: one("validation"), risk: one("risk"), execution: one("execution") };
}

/** A Lambda SQS event source's batch size on a standard queue (the CDK stack's). */
const STANDARD_BATCH = 10;
const FIFO_DEDUPLICATION_MS = 5 * 60_000;
/** Rounds of redelivery before a drain gives up (every failing record is dead-lettered long before). */
const MAX_ROUNDS = 1_000;

interface Queued {
  messageId: string;
  /** the correlation id, sent as a message attribute as queueSender sends it */
  recommendationId: string;
  body: string;
  receiveCount: number;
  sentAtMs: number;
}

export interface DeadLetter {
  queue: QueueId;
  body: string;
  receiveCount: number;
}

export class InProcessQueue implements ChainQueue {
  private queued: Queued[] = [];
  private sent = 0;
  /** FIFO: deduplication id → when its first message was sent */
  private readonly deduplication = new Map<string, number>();

  constructor(
    readonly id: QueueId,
    private readonly now: () => Date,
    private readonly deadLetters: DeadLetter[],
    /** records per handler call on a standard queue (a Lambda event source's batch: 10) */
    private readonly batchSize = STANDARD_BATCH,
  ) {}

  get depth(): number {
    return this.queued.length;
  }

  /** a bound function, as the steps take their senders */
  readonly send = async (message: QueueMessage): Promise<void> => {
    const body = QueueMessage.parse(message);
    const nowMs = this.now().getTime();
    if (QUEUES[this.id].fifo) {
      const key = deduplicationId(body.recommendationId);
      const first = this.deduplication.get(key);
      if (first !== undefined && nowMs - first < FIFO_DEDUPLICATION_MS) return;
      this.deduplication.set(key, nowMs);
      if (this.deduplication.size > 10_000) this.forgetOldDeduplication(nowMs);
    }
    this.queued.push({
      messageId: `${this.id}-${++this.sent}`,
      recommendationId: body.recommendationId,
      body: JSON.stringify(body),
      receiveCount: 0,
      sentAtMs: nowMs,
    });
  };

  readonly drain = async (handler: SqsEventHandler): Promise<DrainResult> => {
    const total: DrainResult = { received: 0, failed: 0 };
    const { fifo, maxReceiveCount } = QUEUES[this.id];
    for (let round = 0; round < MAX_ROUNDS && this.queued.length > 0; round++) {
      // FIFO with one message group: one message at a time, and nothing behind it until it is done
      const batch = this.queued.splice(0, fifo ? 1 : this.batchSize);
      for (const m of batch) m.receiveCount++;
      let failedIds: Set<string>;
      try {
        const response = await handler({ Records: batch.map((m) => this.record(m)) });
        failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        failedIds = new Set(batch.map((m) => m.messageId));
      }
      total.received += batch.length;
      const failed = batch.filter((m) => failedIds.has(m.messageId));
      total.failed += failed.length;
      const retried: Queued[] = [];
      for (const m of failed) {
        if (m.receiveCount >= maxReceiveCount)
          this.deadLetters.push({ queue: this.id, body: m.body, receiveCount: m.receiveCount });
        else retried.push(m);
      }
      // a FIFO group redelivers its failed head before anything behind it; a standard queue later
      if (fifo) this.queued.unshift(...retried);
      else this.queued.push(...retried);
    }
    return total;
  };

  private record(m: Queued): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.messageId,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAtMs),
        SenderId: "in-process",
        ApproximateFirstReceiveTimestamp: String(m.sentAtMs),
      },
      messageAttributes: {
        correlationId: {
          stringValue: m.recommendationId,
          dataType: "String",
          stringListValues: [],
          binaryListValues: [],
        },
      },
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:local:000000000000:in-process-${this.id}`,
      awsRegion: "local",
    };
  }

  private forgetOldDeduplication(nowMs: number): void {
    for (const [key, at] of this.deduplication)
      if (nowMs - at >= FIFO_DEDUPLICATION_MS) this.deduplication.delete(key);
  }
}

/**
 * The three queues in this process, on the replay's clock, with one dead-letter list.
 * `validationOneAtATime`: the validator answers one recommendation after the other, so they reach
 * the risk queue in the bridge's order (live, in the order the LLM's answers arrive).
 */
export function inProcessChainQueues(
  now: () => Date,
  options: { validationOneAtATime?: boolean } = {},
): ChainQueues & { deadLetters: DeadLetter[] } {
  const deadLetters: DeadLetter[] = [];
  return {
    validation: new InProcessQueue(
      "validation",
      now,
      deadLetters,
      options.validationOneAtATime ? 1 : STANDARD_BATCH,
    ),
    risk: new InProcessQueue("risk", now, deadLetters),
    execution: new InProcessQueue("execution", now, deadLetters),
    deadLetters,
  };
}
