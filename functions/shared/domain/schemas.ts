/**
 * The domain model of the pipeline, as zod schemas. Every boundary (events, queue messages,
 * DynamoDB items, HTTP bodies) parses through one of these; the TypeScript types are inferred.
 *
 * This file only gathers the concept files, so `domain/schemas.js` keeps offering everything;
 * each schema is defined once, in the file of its concept:
 * - primitives.ts: product ids, times, decimal strings, probabilities, trade side (and the conventions)
 * - market.ts: granularities, candles
 * - signal.ts: model signals
 * - recommendation.ts: recommendations and their status (moves in recommendation-lifecycle.ts)
 * - decisions.ts: LLM verdict and validation, risk decision
 * - orders.ts: trading mode, orders, fills
 * - books.ts: positions, equity snapshots, kill switch
 * - managed-position.ts: the trades the exit policy watches, their exits and exit reasons
 * - messages.ts: queue messages and their schema version
 * - events.ts: the domain events of the trading bus
 * - chain-latency.ts: the hops from candle close to order accepted
 */
export * from "./books.js";
export * from "./chain-latency.js";
export * from "./decisions.js";
export * from "./events.js";
export * from "./managed-position.js";
export * from "./market.js";
export * from "./messages.js";
export * from "./orders.js";
export * from "./primitives.js";
export * from "./recommendation.js";
export * from "./signal.js";
