import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { QueueMessage } from "#domain/schemas.js";
import { fifoMessageFields } from "./definitions.js";

let shared: SQSClient | undefined;
export function sharedSqsClient(): SQSClient {
  shared ??= new SQSClient({ maxAttempts: 5 });
  return shared;
}

/**
 * Sends a chain message after validating it against its schema, so a producer can never put a
 * malformed body on a queue. The recommendation id travels as a message attribute too, for tracing.
 * On a FIFO queue (its URL ends in .fifo) every message joins the one message group and carries
 * the recommendation id as deduplication id, so the consumer sees one recommendation at a time.
 */
export function queueSender(
  queueUrl: string | undefined,
  envVar: string,
  client: SQSClient = sharedSqsClient(),
) {
  if (!queueUrl) {
    throw new Error(
      `${envVar} is not set: the queue URL is required (the CDK stack or the local cloud sets it).`,
    );
  }
  return async (message: QueueMessage): Promise<void> => {
    const body = QueueMessage.parse(message);
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(body),
        ...fifoMessageFields(queueUrl, body.recommendationId),
        MessageAttributes: {
          correlationId: { DataType: "String", StringValue: body.recommendationId },
        },
      }),
    );
  };
}
