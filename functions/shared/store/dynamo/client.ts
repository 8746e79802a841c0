import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";

/**
 * One document client per process. The endpoint comes from the standard AWS_ENDPOINT_URL_DYNAMODB
 * variable (the local cloud sets it), so the same code talks to AWS and to the local server.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ maxAttempts: 5, ...config });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

let shared: DynamoDBDocumentClient | undefined;

export function sharedDocumentClient(): DynamoDBDocumentClient {
  shared ??= createDocumentClient();
  return shared;
}

export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** Removes the storage-only attributes of an item before it is parsed as a domain object. */
export function withoutKeys<T extends Record<string, unknown>>(
  item: T,
  keys: readonly string[],
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...item };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * Writes an item only if no item with its key exists: the store's create-once primitive.
 * Returns false (and writes nothing) when the item was already there.
 */
export async function putIfAbsent(
  db: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown>,
  partitionKey: string,
): Promise<boolean> {
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: item,
        ConditionExpression: `attribute_not_exists(${partitionKey})`,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/**
 * Every item a Query matches, following LastEvaluatedKey page by page; with `limit`, stops once
 * that many items are read (each page asks only for what is still missing).
 */
export async function queryAllPages(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey" | "Limit">,
  limit?: number,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await db.send(
      new QueryCommand({
        ...input,
        Limit: limit === undefined ? undefined : limit - out.length,
        ExclusiveStartKey: startKey,
      }),
    );
    out.push(...(res.Items ?? []));
    startKey = res.LastEvaluatedKey;
  } while (startKey && (limit === undefined || out.length < limit));
  return out;
}
