import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

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
