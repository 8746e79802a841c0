/**
 * Powertools singletons shared by every handler: structured JSON logs (with the recommendation id
 * as correlation id through the chain) and EMF metrics in the TradingPipeline namespace.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRICS_NAMESPACE } from "../defaults.js";

export { METRICS_NAMESPACE };

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO" });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName,
  });
}

/** Emits one metric with one dimension right away (its own EMF blob), so dimensions never mix. */
export function countBy(metrics: Metrics, name: string, dimension: string, value: string, count = 1): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

export { MetricUnit };
