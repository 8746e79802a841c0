/**
 * What every handler sets up once at init: validated configuration, a logger and metrics named
 * after the function, and the stores on the tables its environment names.
 */
import { loadConfig } from "#config";
import { createStores } from "#store/dynamo/index.js";
import { createLogger, createMetrics } from "./observability.js";

export function handlerContext(service: string) {
  const config = loadConfig();
  return { config, logger: createLogger(service), metrics: createMetrics(service), stores: createStores() };
}
