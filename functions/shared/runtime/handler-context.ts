/**
 * What every handler sets up once at init: validated configuration, a logger and metrics named
 * after the function, and the stores on the tables its environment names.
 */
import { loadConfig } from "../config.js";
import { createVenue } from "../exchange/venue.js";
import { sharedDocumentClient } from "../store/dynamo/client.js";
import { createStores } from "../store/dynamo/index.js";
import { tableName } from "../store/tables.js";
import { createLogger, createMetrics } from "./observability.js";

export function handlerContext(service: string) {
  const config = loadConfig();
  return { config, logger: createLogger(service), metrics: createMetrics(service), stores: createStores() };
}

/** The trading venue of a deployed function: paper books in the portfolio table, or Coinbase when live. */
export function deployedVenue({
  config,
  stores,
}: Pick<ReturnType<typeof handlerContext>, "config" | "stores">) {
  return createVenue(config, {
    db: sharedDocumentClient(),
    portfolioTable: tableName("portfolio"),
    candles: stores.candles,
    granularity: config.CANDLE_GRANULARITY,
  });
}
