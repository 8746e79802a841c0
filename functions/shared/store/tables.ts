/**
 * Every DynamoDB table and index of the system, in ONE place. The CDK stacks (infra/) and the
 * local cloud (local/cloud.ts) both build their tables from these definitions, so what the tests
 * run against is what `cdk deploy` creates. docs/ARCHITECTURE.md lists each access pattern and
 * the key condition that serves it.
 */

export type KeyType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableDefinition {
  /** stable logical id, also the suffix of the physical name */
  readonly id: TableId;
  /** the environment variable that carries the physical table name to every function */
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** DynamoDB TTL attribute (Unix seconds), when items expire */
  readonly timeToLiveAttribute?: string;
  readonly purpose: string;
}

export type TableId = "candles" | "signals" | "recommendations" | "decisions" | "orders" | "portfolio";

const S = (name: string): KeyAttribute => ({ name, type: "S" });
const N = (name: string): KeyAttribute => ({ name, type: "N" });

export const TABLES: Readonly<Record<TableId, TableDefinition>> = {
  candles: {
    id: "candles",
    envVar: "CANDLES_TABLE",
    partitionKey: S("series"), // `${symbol}#${granularity}`
    sortKey: N("start"),
    globalSecondaryIndexes: [],
    timeToLiveAttribute: "expiresAt",
    purpose: "OHLCV candles per symbol and granularity; newest N by a descending Query",
  },
  signals: {
    id: "signals",
    envVar: "SIGNALS_TABLE",
    partitionKey: S("signalId"),
    globalSecondaryIndexes: [
      // `SIGNALS#yyyy-mm-ddThh`: one partition per hour, so "the last hour" is two Queries
      { indexName: "byHour", partitionKey: S("hourBucket"), sortKey: S("createdAt") },
      { indexName: "bySymbol", partitionKey: S("symbol"), sortKey: S("createdAt") },
    ],
    timeToLiveAttribute: "expiresAt",
    purpose: "model signals; the bridge reads the last hour, dashboards read per symbol",
  },
  recommendations: {
    id: "recommendations",
    envVar: "RECOMMENDATIONS_TABLE",
    partitionKey: S("recommendationId"),
    globalSecondaryIndexes: [{ indexName: "byStatus", partitionKey: S("status"), sortKey: S("createdAt") }],
    purpose: "trade recommendations and their lifecycle; status transitions are conditional writes",
  },
  decisions: {
    id: "decisions",
    envVar: "DECISIONS_TABLE",
    partitionKey: S("recommendationId"),
    sortKey: S("kind"), // VALIDATION | RISK
    globalSecondaryIndexes: [],
    purpose: "one LLM validation and one risk decision per recommendation, written once",
  },
  orders: {
    id: "orders",
    envVar: "ORDERS_TABLE",
    partitionKey: S("clientOrderId"),
    sortKey: S("item"), // ORDER | FILL#<tradeId>
    globalSecondaryIndexes: [
      // sparse: only orders that are not terminal carry `openSince`
      { indexName: "openOrders", partitionKey: S("openVenue"), sortKey: S("openSince") },
    ],
    purpose: "orders keyed by their deterministic client order id, with their fills",
  },
  portfolio: {
    id: "portfolio",
    envVar: "PORTFOLIO_TABLE",
    partitionKey: S("pk"), // POSITION | EQUITY | KILL_SWITCH | PAPER#BALANCE | PAPER#ORDER ...
    sortKey: S("sk"),
    globalSecondaryIndexes: [],
    purpose: "positions, equity snapshots, kill switch and its audit trail, paper-exchange books",
  },
};

export const TABLE_LIST: readonly TableDefinition[] = Object.values(TABLES);

/** Physical table name used when no environment variable names it (local runs). */
export function defaultTableName(id: TableId, prefix = "trading"): string {
  return `${prefix}-${id}`;
}

/** Resolves the physical name of a table from the environment, as every function does. */
export function tableName(id: TableId, env: NodeJS.ProcessEnv = process.env): string {
  return env[TABLES[id].envVar] ?? defaultTableName(id);
}
