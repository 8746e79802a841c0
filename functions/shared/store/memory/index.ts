/**
 * Every store in memory, for the backtester and for tests: the same ports and the same rules as
 * the DynamoDB adapters (idempotent creates, conditional transitions, optimistic versions, index
 * orders), with no AWS. Each call is atomic: no await between a condition and its write.
 */
import type { Stores } from "#store/ports.js";
import { MemoryCandleStore } from "./candle-store.js";
import { MemoryDecisionStore } from "./decision-store.js";
import { MemoryManagedPositionStore } from "./managed-position-store.js";
import { MemoryOrderStore } from "./order-store.js";
import { MemoryKillSwitchStore, MemoryPortfolioStore } from "./portfolio-store.js";
import { MemoryRecommendationStore } from "./recommendation-store.js";
import { MemorySignalStore } from "./signal-store.js";

export { MemoryCandleStore } from "./candle-store.js";
export { MemoryDecisionStore } from "./decision-store.js";
export { MemoryManagedPositionStore } from "./managed-position-store.js";
export { MemoryOrderStore } from "./order-store.js";
export { MemoryKillSwitchStore, MemoryPortfolioStore } from "./portfolio-store.js";
export { MemoryRecommendationStore } from "./recommendation-store.js";
export { MemorySignalStore } from "./signal-store.js";

/** A fresh, empty set of every store. */
export function createMemoryStores(): Stores {
  return {
    candles: new MemoryCandleStore(),
    signals: new MemorySignalStore(),
    recommendations: new MemoryRecommendationStore(),
    decisions: new MemoryDecisionStore(),
    orders: new MemoryOrderStore(),
    portfolio: new MemoryPortfolioStore(),
    killSwitch: new MemoryKillSwitchStore(),
    managedPositions: new MemoryManagedPositionStore(),
  };
}
