import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Signal } from "#domain/schemas.js";
import type { SignalStore } from "#store/ports.js";
import { putIfAbsent, queryAllPages, withoutKeys } from "./client.js";

const STORAGE_KEYS = ["hourBucket"] as const;
const HOUR_MS = 3_600_000;

/** The byHour partition a timestamp falls in: `SIGNALS#2024-06-30T23`. */
export function hourBucketOf(at: Date | string): string {
  const iso = typeof at === "string" ? at : at.toISOString();
  return `SIGNALS#${iso.slice(0, 13)}`;
}

export class DynamoSignalStore implements SignalStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putSignal(signal: Signal): Promise<boolean> {
    return putIfAbsent(
      this.db,
      this.table,
      { ...signal, hourBucket: hourBucketOf(signal.createdAt) },
      "signalId",
    );
  }

  async getSignal(signalId: string): Promise<Signal | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { signalId }, ConsistentRead: true }),
    );
    return res.Item ? Signal.parse(withoutKeys(res.Item, STORAGE_KEYS)) : undefined;
  }

  async signalsSince(since: Date, now: Date): Promise<Signal[]> {
    const out: Signal[] = [];
    // one Query per hour partition between `since` and `now` (two for "the last hour")
    for (let t = Math.floor(since.getTime() / HOUR_MS) * HOUR_MS; t <= now.getTime(); t += HOUR_MS) {
      const items = await queryAllPages(this.db, {
        TableName: this.table,
        IndexName: "byHour",
        KeyConditionExpression: "hourBucket = :b AND createdAt >= :since",
        ExpressionAttributeValues: { ":b": hourBucketOf(new Date(t)), ":since": since.toISOString() },
      });
      for (const item of items) out.push(Signal.parse(withoutKeys(item, STORAGE_KEYS)));
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async latestSignalsOfSymbol(symbol: string, limit: number): Promise<Signal[]> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "bySymbol",
        KeyConditionExpression: "symbol = :s",
        ExpressionAttributeValues: { ":s": symbol },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).map((item) => Signal.parse(withoutKeys(item, STORAGE_KEYS)));
  }

  async markProcessed(signalId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { signalId },
        UpdateExpression: "SET #p = :t",
        ConditionExpression: "attribute_exists(signalId)",
        ExpressionAttributeNames: { "#p": "processed" },
        ExpressionAttributeValues: { ":t": true },
      }),
    );
  }
}
