import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Candle, type Granularity } from "#domain/schemas.js";
import type { CandleStore } from "#store/ports.js";
import { queryAllPages, withoutKeys } from "./client.js";

const STORAGE_KEYS = ["series", "expiresAt"] as const;
const BATCH = 25;

export function seriesKey(symbol: string, granularity: Granularity): string {
  return `${symbol}#${granularity}`;
}

export class DynamoCandleStore implements CandleStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** candles expire this long after their open time */
    private readonly ttlSeconds = 120 * 86_400,
  ) {}

  async putCandles(candles: readonly Candle[]): Promise<{ written: number }> {
    let written = 0;
    for (let i = 0; i < candles.length; i += BATCH) {
      let requests = candles.slice(i, i + BATCH).map((c) => ({
        PutRequest: {
          Item: { ...c, series: seriesKey(c.symbol, c.granularity), expiresAt: c.start + this.ttlSeconds },
        },
      }));
      // BatchWrite may leave items unprocessed under throttling: retry them with backoff.
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 8)
          throw new Error(`Candle write to ${this.table} kept being throttled; retry the ingest later.`);
        const res = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        const left = (res.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        written += requests.length - left.length;
        requests = left;
        if (left.length > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 25));
      }
    }
    return { written };
  }

  async latestCandles(symbol: string, granularity: Granularity, limit: number): Promise<Candle[]> {
    const items = await queryAllPages(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: "series = :s",
        ExpressionAttributeValues: { ":s": seriesKey(symbol, granularity) },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map((item) => this.parseStored(item)).reverse();
  }

  async latestCandleStart(symbol: string, granularity: Granularity): Promise<number | undefined> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "series = :s",
        ExpressionAttributeValues: { ":s": seriesKey(symbol, granularity) },
        ProjectionExpression: "#start",
        ExpressionAttributeNames: { "#start": "start" },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const start = res.Items?.[0]?.start;
    return typeof start === "number" ? start : undefined;
  }

  async candlesBetween(
    symbol: string,
    granularity: Granularity,
    fromStart: number,
    toStart: number,
  ): Promise<Candle[]> {
    const items = await queryAllPages(this.db, {
      TableName: this.table,
      KeyConditionExpression: "series = :s AND #start BETWEEN :from AND :to",
      ExpressionAttributeNames: { "#start": "start" },
      ExpressionAttributeValues: { ":s": seriesKey(symbol, granularity), ":from": fromStart, ":to": toStart },
    });
    return items.map((item) => this.parseStored(item));
  }

  /** A stored item that is not a valid candle is named (series, start) in the error, never used. */
  private parseStored(item: Record<string, unknown>): Candle {
    const parsed = Candle.safeParse(withoutKeys(item, STORAGE_KEYS));
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
      .join("; ");
    throw new Error(
      `${this.table}: stored candle ${String(item.series)} start=${String(item.start)} is invalid (${problems}); delete it or overwrite it with a valid candle`,
    );
  }
}
