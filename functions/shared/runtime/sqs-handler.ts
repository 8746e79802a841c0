/**
 * What every SQS-consuming handler shares: Powertools partial batch responses (a failed record is
 * retried alone and, after the redrive limit, lands in the DLQ), schema validation of every body at
 * the boundary, and the recommendation id as correlation id on every log line of that record.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";

export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError";
}

/** Parses a queue body against its schema; a bad body is an error that names the queue and the problem. */
export function parseQueueBody<T>(schema: z.ZodType<T>, body: string, queue: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedMessageError(
      `Message on the ${queue} queue is not JSON (${body.slice(0, 80)}…). It will be retried and then kept in the dead-letter queue; fix the producer.`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new MalformedMessageError(
      `Message on the ${queue} queue does not match its schema (${issues}). It will be retried and then kept in the dead-letter queue; check its schemaVersion and the producer.`,
    );
  }
  return parsed.data;
}

export interface SqsHandlerOptions<T> {
  queue: string;
  schema: z.ZodType<T>;
  logger: Logger;
  /** records one at a time (the risk manager must see each approval before the next) */
  sequential?: boolean;
  process(message: T, record: SQSRecord): Promise<unknown>;
}

export function sqsHandler<T extends { recommendationId: string }>(options: SqsHandlerOptions<T>) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    const correlationId = record.messageAttributes?.correlationId?.stringValue ?? record.messageId;
    options.logger.appendKeys({ correlationId, messageId: record.messageId });
    try {
      const message = parseQueueBody(options.schema, record.body, options.queue);
      options.logger.appendKeys({ correlationId: message.recommendationId });
      const result = await options.process(message, record);
      options.logger.info("message processed", { result: result as Record<string, unknown> });
    } catch (error) {
      options.logger.error("message failed; it goes back to the queue", error as Error);
      throw error;
    } finally {
      options.logger.removeKeys(["correlationId", "messageId"]);
    }
  };
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
      processInParallel: !options.sequential,
    });
}
