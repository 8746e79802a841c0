/**
 * Receives messages from an SQS queue and hands them to a Lambda-style SQS handler, then deletes
 * what succeeded. Failed records stay on the queue and come back after their visibility timeout,
 * counting towards the redrive limit, exactly as with a Lambda event source mapping. The LLM
 * validator's container worker and the local runner both consume queues through it.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export type SqsEventHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface PollOptions {
  queueUrl: string;
  queueArn: string;
  handler: SqsEventHandler;
  waitTimeSeconds?: number;
  maxMessages?: number;
  /** make failed messages visible again after this many seconds (default: the queue's visibility timeout) */
  retryDelaySeconds?: number;
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        {
          stringValue: v.StringValue,
          dataType: v.DataType ?? "String",
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export interface PollResult {
  received: number;
  failed: number;
}

export async function pollOnce(client: SQSClient, options: PollOptions): Promise<PollResult> {
  const res = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.maxMessages ?? 10,
      WaitTimeSeconds: options.waitTimeSeconds ?? 0,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  const messages = res.Messages ?? [];
  if (messages.length === 0) return { received: 0, failed: 0 };
  const region = (await client.config.region()) ?? "us-east-1";
  const records = messages.map((m) => toSqsRecord(m, options.queueArn, region));
  let failedIds: Set<string>;
  try {
    const response = await options.handler({ Records: records });
    failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    failedIds = new Set(records.map((r) => r.messageId));
  }
  const succeeded = messages.filter((m) => !failedIds.has(m.MessageId ?? ""));
  const failed = messages.filter((m) => failedIds.has(m.MessageId ?? ""));
  if (succeeded.length > 0) {
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  if (failed.length > 0 && options.retryDelaySeconds !== undefined) {
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: failed.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: options.retryDelaySeconds,
        })),
      }),
    );
  }
  return { received: messages.length, failed: failed.length };
}

/** Polls until the queue is empty (messages that keep failing end in the DLQ after the redrive limit). */
export async function drainQueue(
  client: SQSClient,
  options: PollOptions,
  maxRounds = 100,
): Promise<PollResult> {
  const total = { received: 0, failed: 0 };
  for (let round = 0; round < maxRounds; round++) {
    const r = await pollOnce(client, { ...options, waitTimeSeconds: 0 });
    if (r.received === 0) break;
    total.received += r.received;
    total.failed += r.failed;
    // failed messages become visible again on a timer; let it fire before the next receive
    if (r.failed > 0)
      await new Promise((resolve) => setTimeout(resolve, 25 + (options.retryDelaySeconds ?? 0) * 1000));
  }
  return total;
}

/** Long-polls until `signal` aborts: the container worker's main loop. */
export async function pollForever(
  client: SQSClient,
  options: PollOptions,
  signal: AbortSignal,
  onError: (e: unknown) => void,
) {
  while (!signal.aborted) {
    try {
      await pollOnce(client, { waitTimeSeconds: 20, ...options });
    } catch (error) {
      onError(error);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}
