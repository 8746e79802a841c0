import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { QUEUE_LIST, visibilityTimeoutSeconds } from "#queues/definitions.js";
import { TABLE_LIST } from "#store/tables.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

describe("local cloud", () => {
  let cloud: Awaited<ReturnType<typeof isolatedCloud>>;
  beforeAll(async () => {
    cloud = await isolatedCloud("infra");
  });

  it("creates every table with the keys and indexes of the shared definitions", async () => {
    const ddb = new DynamoDBClient({ endpoint: cloud.dynamodbEndpoint });
    for (const def of TABLE_LIST) {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: cloud.tables[def.id] }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: def.partitionKey.name, KeyType: "HASH" },
        ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: "RANGE" }] : []),
      ]);
      const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => ({
        name: i.IndexName,
        keys: i.KeySchema?.map((k) => k.AttributeName),
      }));
      expect(indexes).toEqual(
        def.globalSecondaryIndexes.map((g) => ({
          name: g.indexName,
          keys: [g.partitionKey.name, ...(g.sortKey ? [g.sortKey.name] : [])],
        })),
      );
      expect(process.env[def.envVar]).toBe(cloud.tables[def.id]);
    }
  });

  it("creates every queue with its dead-letter queue, redrive policy and 6x visibility timeout", async () => {
    const sqs = new SQSClient({ endpoint: cloud.sqsEndpoint });
    for (const def of QUEUE_LIST) {
      const q = cloud.queues[def.id];
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["All"] }),
      );
      expect(JSON.parse(Attributes?.RedrivePolicy ?? "{}")).toEqual({
        deadLetterTargetArn: q.deadLetterArn,
        maxReceiveCount: def.maxReceiveCount,
      });
      expect(Number(Attributes?.VisibilityTimeout)).toBe(visibilityTimeoutSeconds(def));
      expect(Number(Attributes?.VisibilityTimeout)).toBe(6 * def.consumerTimeoutSeconds);
      expect(process.env[def.urlEnvVar]).toBe(q.url);
      // FIFO where the definition says so (the risk queue: one recommendation at a time), DLQ too
      const { Attributes: dlq } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.deadLetterUrl, AttributeNames: ["All"] }),
      );
      expect(Attributes?.FifoQueue === "true", def.id).toBe(def.fifo);
      expect(dlq?.FifoQueue === "true", `${def.id} DLQ`).toBe(def.fifo);
    }
  });
});
