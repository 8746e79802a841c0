import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Stores } from "#store/ports.js";
import { tableName } from "#store/tables.js";
import { DynamoCandleStore } from "./candle-store.js";
import { sharedDocumentClient } from "./client.js";
import { DynamoDecisionStore } from "./decision-store.js";
import { DynamoManagedPositionStore } from "./managed-position-store.js";
import { DynamoOrderStore } from "./order-store.js";
import { DynamoKillSwitchStore, DynamoPortfolioStore } from "./portfolio-store.js";
import { DynamoRecommendationStore } from "./recommendation-store.js";
import { DynamoSignalStore } from "./signal-store.js";

export { DynamoCandleStore, seriesKey } from "./candle-store.js";
export { createDocumentClient, sharedDocumentClient } from "./client.js";
export { DynamoDecisionStore } from "./decision-store.js";
export { DynamoManagedPositionStore } from "./managed-position-store.js";
export { DynamoOrderStore } from "./order-store.js";
export { DynamoKillSwitchStore, DynamoPortfolioStore } from "./portfolio-store.js";
export { DynamoRecommendationStore } from "./recommendation-store.js";
export { DynamoSignalStore, hourBucketOf } from "./signal-store.js";

/** Every store, wired to the tables named by the environment. */
export function createStores(
  db: DynamoDBDocumentClient = sharedDocumentClient(),
  env: NodeJS.ProcessEnv = process.env,
): Stores {
  return {
    candles: new DynamoCandleStore(db, tableName("candles", env)),
    signals: new DynamoSignalStore(db, tableName("signals", env)),
    recommendations: new DynamoRecommendationStore(db, tableName("recommendations", env)),
    decisions: new DynamoDecisionStore(db, tableName("decisions", env)),
    orders: new DynamoOrderStore(db, tableName("orders", env)),
    portfolio: new DynamoPortfolioStore(db, tableName("portfolio", env)),
    killSwitch: new DynamoKillSwitchStore(db, tableName("portfolio", env)),
    managedPositions: new DynamoManagedPositionStore(db, tableName("portfolio", env)),
  };
}
export type { Stores } from "#store/ports.js";
