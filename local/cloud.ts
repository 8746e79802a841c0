/**
 * The local cloud: real AWS protocols on 127.0.0.1, no account, no mocks.
 * - DynamoDB: dynalite (the DynamoDB JSON protocol, in memory). No transactions, TTL or streams:
 *   the store only uses single-item conditional writes, and TTL is configured in AWS only.
 * - SQS: local-aws-sqs (Query and JSON protocols), with dead-letter queues and redrive. FIFO queues
 *   take message groups and deduplicate like SQS, but do not hold a group back while one of its
 *   messages is in flight: locally the runner consumes the risk queue one message at a time itself.
 * Tables and queues come from the same definitions the CDK stacks use.
 */

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import dynalite from "dynalite";
import { createSqsServer } from "local-aws-sqs";
import {
  deadLetterQueueName,
  QUEUE_LIST,
  type QueueId,
  queueName,
  visibilityTimeoutSeconds,
} from "#queues/definitions.js";
import { defaultTableName, TABLE_LIST, type TableDefinition, type TableId } from "#store/tables.js";

export interface LocalQueue {
  id: QueueId;
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
}

export interface LocalCloud {
  /** environment that points every SDK client and function at the local cloud */
  env: Record<string, string>;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: Record<TableId, string>;
  queues: Record<QueueId, LocalQueue>;
  /** stops both servers; their in-memory data is gone */
  stop(): Promise<void>;
}

export interface LocalCloudOptions {
  /** prefix of every table and queue name (default "trading") */
  prefix?: string;
  /** also write `env` into process.env (default true) */
  applyToProcessEnv?: boolean;
}

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const REGION = "us-east-1";

export function createTableInput(def: TableDefinition, name: string): CreateTableCommandInput {
  const attributes = new Map<string, "S" | "N">();
  const keyAttrs = [
    def.partitionKey,
    def.sortKey,
    ...def.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  for (const key of keyAttrs) if (key) attributes.set(key.name, key.type);
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: "HASH" },
      ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: "RANGE" as const }] : []),
    ],
    GlobalSecondaryIndexes:
      def.globalSecondaryIndexes.length === 0
        ? undefined
        : def.globalSecondaryIndexes.map((gsi) => ({
            IndexName: gsi.indexName,
            KeySchema: [
              { AttributeName: gsi.partitionKey.name, KeyType: "HASH" as const },
              ...(gsi.sortKey ? [{ AttributeName: gsi.sortKey.name, KeyType: "RANGE" as const }] : []),
            ],
            Projection: { ProjectionType: "ALL" as const },
          })),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export interface LocalCloudEndpoints {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
}

/**
 * Creates every table and every queue (with its dead-letter queue and redrive policy) under
 * `prefix` on running local servers, and returns the environment that points functions at them.
 * Test files call it with their own prefix on the shared servers, so they never see each other's data.
 */
export async function provisionResources(
  endpoints: LocalCloudEndpoints,
  prefix: string,
): Promise<Pick<LocalCloud, "env" | "tables" | "queues">> {
  const ddb = new DynamoDBClient({
    endpoint: endpoints.dynamodbEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const tables = {} as Record<TableId, string>;
  try {
    for (const def of TABLE_LIST) {
      const name = defaultTableName(def.id, prefix);
      await ddb.send(new CreateTableCommand(createTableInput(def, name)));
      await ddb.send(new DescribeTableCommand({ TableName: name }));
      tables[def.id] = name;
    }
  } finally {
    ddb.destroy();
  }

  const sqsClient = new SQSClient({
    endpoint: endpoints.sqsEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const queues = {} as Record<QueueId, LocalQueue>;
  try {
    for (const def of QUEUE_LIST) {
      // a FIFO queue's DLQ is FIFO too; messages carry their group and deduplication ids
      const fifo: Record<string, string> = def.fifo ? { FifoQueue: "true" } : {};
      const dlq = await sqsClient.send(
        new CreateQueueCommand({
          QueueName: deadLetterQueueName(def.id, prefix),
          Attributes: { ...fifo, MessageRetentionPeriod: String(14 * 86_400) },
        }),
      );
      const dlqArn = await queueArn(sqsClient, dlq.QueueUrl!);
      const main = await sqsClient.send(
        new CreateQueueCommand({
          QueueName: queueName(def.id, prefix),
          Attributes: {
            ...fifo,
            VisibilityTimeout: String(visibilityTimeoutSeconds(def)),
            MessageRetentionPeriod: String(def.messageRetentionDays * 86_400),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: def.maxReceiveCount,
            }),
          },
        }),
      );
      queues[def.id] = {
        id: def.id,
        url: main.QueueUrl!,
        arn: await queueArn(sqsClient, main.QueueUrl!),
        deadLetterUrl: dlq.QueueUrl!,
        deadLetterArn: dlqArn,
      };
    }
  } finally {
    sqsClient.destroy();
  }

  const env: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
  };
  for (const def of TABLE_LIST) env[def.envVar] = tables[def.id];
  for (const def of QUEUE_LIST) {
    env[def.urlEnvVar] = queues[def.id].url;
    env[deadLetterUrlEnvVar(def.urlEnvVar)] = queues[def.id].deadLetterUrl;
  }
  return { env, tables, queues };
}

/** VALIDATION_QUEUE_URL -> VALIDATION_DLQ_URL */
export function deadLetterUrlEnvVar(urlEnvVar: string): string {
  return urlEnvVar.replace(/_QUEUE_URL$/, "_DLQ_URL");
}

/** Starts dynalite and local-aws-sqs on free 127.0.0.1 ports and provisions every table and queue. */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  const dynamoPort = await listen(dynamo);
  const sqs = await createSqsServer({
    port: 0,
    hostname: "127.0.0.1",
    region: REGION,
    emulateQueueCreationLifecycle: false,
  });
  const stop = async () => {
    await Promise.all([close(dynamo), close(sqs)]);
  };
  const endpoints = {
    dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
    sqsEndpoint: `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`,
  };
  try {
    const resources = await provisionResources(endpoints, options.prefix ?? "trading");
    if (options.applyToProcessEnv ?? true) Object.assign(process.env, resources.env);
    return { ...endpoints, ...resources, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const res = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = res.Attributes?.QueueArn;
  if (!arn) throw new Error(`Local SQS returned no QueueArn for ${url}`);
  return arn;
}
