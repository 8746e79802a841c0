/**
 * Powertools singletons shared by every handler: structured JSON logs (with the recommendation id
 * as correlation id through the chain), EMF metrics in the TradingPipeline namespace and X-Ray
 * traces (on in Lambda, where the functions run with active tracing; off everywhere else).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { METRICS_NAMESPACE } from "#defaults";

export { METRICS_NAMESPACE };

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO" });
}

/** Powertools' warning when a flush finds no stored metric: the handlers emit single metrics only. */
const NO_STORED_METRICS = "No application metrics to publish";

export function createMetrics(serviceName: string): Metrics {
  const logger = createLogger(serviceName);
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName,
    // Metrics' own warnings as structured log lines; the empty flush at the end of every
    // invocation is expected (every metric is a single metric, flushed when added), so it is debug
    logger: {
      debug: (...a: unknown[]) => logger.debug(String(a[0])),
      info: (...a: unknown[]) => logger.info(String(a[0])),
      warn: (...a: unknown[]) =>
        String(a[0]).startsWith(NO_STORED_METRICS) ? logger.debug(String(a[0])) : logger.warn(String(a[0])),
      error: (...a: unknown[]) => logger.error(String(a[0])),
    },
  });
}

/**
 * X-Ray tracing of the handler. Powertools turns it off outside Lambda (no AWS_EXECUTION_ENV: tests,
 * local runs, the local invoker) and when POWERTOOLS_TRACE_ENABLED=false; then it is a no-op.
 */
export function createTracer(serviceName: string): Tracer {
  return new Tracer({ serviceName });
}

/** Emits one metric with one dimension right away (its own EMF blob), so dimensions never mix. */
export function countBy(metrics: Metrics, name: string, dimension: string, value: string, count = 1): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

export { MetricUnit };
