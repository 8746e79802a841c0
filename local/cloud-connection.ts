/**
 * The local cloud `npm start` runs on: the one the environment names (AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_SQS, table names and queue URLs from their usual variables), else the one
 * `npm run local` keeps up, else a fresh one that goes when the run ends. On a cloud it did not
 * start, a run stops nothing, so what it wrote stays there for `npm run invoke` to inspect.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { deadLetterQueueName, QUEUE_LIST, type QueueId, queueName } from "#queues/definitions.js";
import { TABLE_LIST, type TableId, tableName } from "#store/tables.js";
import { deadLetterUrlEnvVar, type LocalCloud, type LocalQueue, startLocalCloud } from "./cloud.js";
import { findRunningCloud } from "./cloud-state.js";

export interface UsedLocalCloud extends Omit<LocalCloud, "env"> {
  /** one line: which cloud, and whether the run stops it */
  description: string;
  /** true when this run started the cloud (and stops it at the end) */
  owned: boolean;
}

export async function useOrStartLocalCloud(
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UsedLocalCloud> {
  const running = await findRunningCloud(repoRoot, env);
  if (running.kind === "state-file") {
    for (const [k, v] of Object.entries(running.state.env)) env[k] = v;
    return {
      ...(await connectLocalCloud(env)),
      description: `the running local cloud (npm run local, pid ${running.state.pid}); its data stays after this run`,
      owned: false,
    };
  }
  if (running.kind === "environment") {
    return {
      ...(await connectLocalCloud(env)),
      description: `the cloud at AWS_ENDPOINT_URL_DYNAMODB=${env.AWS_ENDPOINT_URL_DYNAMODB}; its data stays after this run`,
      owned: false,
    };
  }
  const cloud = await startLocalCloud();
  return {
    ...cloud,
    description: "a fresh local cloud for this run (in memory, gone when the run ends)",
    owned: true,
  };
}

/** Tables and queues of a running cloud, from the environment (default names where unset). */
export async function connectLocalCloud(env: NodeJS.ProcessEnv): Promise<Omit<LocalCloud, "env">> {
  const dynamodbEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS;
  if (!dynamodbEndpoint || !sqsEndpoint) {
    throw new Error(
      "AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS must both name the local cloud (as `npm run local` prints them), or both be unset.",
    );
  }
  // the local servers accept any credentials; the SDK only needs some
  env.AWS_REGION ??= "us-east-1";
  env.AWS_ACCESS_KEY_ID ??= "local";
  env.AWS_SECRET_ACCESS_KEY ??= "local";
  const tables = {} as Record<TableId, string>;
  for (const def of TABLE_LIST) tables[def.id] = tableName(def.id, env);
  const sqs = new SQSClient({ endpoint: sqsEndpoint });
  try {
    const url = async (envVar: string, name: string) =>
      env[envVar] ?? (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const arn = async (queueUrl: string) => {
      const res = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
      );
      const value = res.Attributes?.QueueArn;
      if (!value) throw new Error(`the local SQS at ${sqsEndpoint} returned no QueueArn for ${queueUrl}`);
      return value;
    };
    const queues = {} as Record<QueueId, LocalQueue>;
    for (const def of QUEUE_LIST) {
      const main = await url(def.urlEnvVar, queueName(def.id));
      const dlq = await url(deadLetterUrlEnvVar(def.urlEnvVar), deadLetterQueueName(def.id));
      queues[def.id] = {
        id: def.id,
        url: main,
        arn: await arn(main),
        deadLetterUrl: dlq,
        deadLetterArn: await arn(dlq),
      };
    }
    return { dynamodbEndpoint, sqsEndpoint, tables, queues, stop: async () => {} };
  } finally {
    sqs.destroy();
  }
}
