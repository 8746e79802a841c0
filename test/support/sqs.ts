import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";

/** One record of a Lambda SQS event, as the event source delivers `body` from `queue`. */
export function sqsRecord(
  body: string,
  options: { messageId: string; queue: string; receiveCount?: number; senderId?: string },
): SQSRecord {
  return {
    messageId: options.messageId,
    receiptHandle: "r",
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: "0",
      SenderId: options.senderId ?? "t",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${options.queue}`,
    awsRegion: "us-east-1",
  };
}

/** Drains every message currently visible on a queue (and deletes them), parsed from JSON when it is JSON. */
export async function drainQueue(queueUrl: string, client = new SQSClient({})): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const res = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return out;
    for (const m of messages) {
      out.push(parseBody(m.Body ?? "null"));
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
