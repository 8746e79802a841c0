/**
 * The risk queue is FIFO with one message group, so the risk manager assesses one recommendation
 * at a time without reserved concurrency; the validated sender fills in the group and a
 * deduplication id. Against the local cloud (local-aws-sqs speaks the FIFO parameters and dedups).
 */
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { RiskRequest, ValidationRequest } from "#domain/schemas.js";
import { deduplicationId, QUEUES, queueName, SERIAL_MESSAGE_GROUP_ID } from "#queues/definitions.js";
import { queueSender } from "#queues/sender.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

const riskRequest = (id: string): RiskRequest => ({
  schemaVersion: 1,
  type: "AssessRisk",
  recommendationId: id,
  symbol: "BTC-USD",
  sentAt: "2024-04-14T12:01:00.000Z",
});

async function receiveAll(sqs: SQSClient, url: string) {
  const res = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      // local-aws-sqs answers the (older) AttributeNames; SQS answers both
      AttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return res.Messages ?? [];
}

describe("FIFO risk queue", () => {
  it("is defined FIFO, and only it: its name and its DLQ's end in .fifo", () => {
    expect(QUEUES.risk.fifo).toBe(true);
    expect(queueName("risk", "p")).toBe("p-risk.fifo");
    expect(QUEUES.validation.fifo).toBe(false);
    expect(QUEUES.execution.fifo).toBe(false);
    expect(queueName("execution", "p")).toBe("p-execution");
  });

  it("the sender puts every risk message in the one group, deduplicated by recommendation id", async () => {
    const cloud = await isolatedCloud("fifo");
    const sqs = new SQSClient({});
    const send = queueSender(cloud.queues.risk.url, "RISK_QUEUE_URL", sqs);
    await send(riskRequest("rec-a"));
    await send(riskRequest("rec-b"));
    // a validator retried within SQS's 5-minute window sends nothing twice
    await send(riskRequest("rec-a"));

    const messages = await receiveAll(sqs, cloud.queues.risk.url);
    expect(messages.map((m) => JSON.parse(m.Body ?? "{}").recommendationId)).toEqual(["rec-a", "rec-b"]);
    for (const m of messages) {
      expect(m.Attributes?.MessageGroupId).toBe(SERIAL_MESSAGE_GROUP_ID);
      expect(m.Attributes?.MessageDeduplicationId).toBe(JSON.parse(m.Body ?? "{}").recommendationId);
    }
  });

  it("messages to a standard queue carry no group or deduplication id", async () => {
    const cloud = await isolatedCloud("std");
    const sqs = new SQSClient({});
    const request: ValidationRequest = {
      schemaVersion: 1,
      type: "ValidateRecommendation",
      recommendationId: "rec-v",
      symbol: "BTC-USD",
      sentAt: "2024-04-14T12:01:00.000Z",
    };
    await queueSender(cloud.queues.validation.url, "VALIDATION_QUEUE_URL", sqs)(request);
    const [message] = await receiveAll(sqs, cloud.queues.validation.url);
    expect(message.Attributes?.MessageGroupId).toBeUndefined();
    expect(message.Attributes?.MessageDeduplicationId).toBeUndefined();
  });

  it("an id SQS would refuse as deduplication id (over 128 characters, or not printable ASCII) is hashed", async () => {
    expect(deduplicationId("rec-BTC-USD_ONE_HOUR_1748865600_xgb")).toBe(
      "rec-BTC-USD_ONE_HOUR_1748865600_xgb",
    );
    const long = `rec-${"x".repeat(200)}`;
    const accented = "rec-é";
    for (const id of [long, accented]) expect(deduplicationId(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(deduplicationId(long)).not.toBe(deduplicationId(accented));

    const cloud = await isolatedCloud("fifo-long");
    const sqs = new SQSClient({});
    await queueSender(cloud.queues.risk.url, "RISK_QUEUE_URL", sqs)(riskRequest(long));
    const [message] = await receiveAll(sqs, cloud.queues.risk.url);
    expect(JSON.parse(message.Body ?? "{}").recommendationId).toBe(long);
    expect(message.Attributes?.MessageDeduplicationId).toBe(deduplicationId(long));
  });
});
