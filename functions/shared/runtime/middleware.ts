/**
 * The middy chain every deployed handler is: a health check answered at once, Powertools' tracing
 * (X-Ray segment per invocation), Lambda context on every log line, metrics flushed at the end (on
 * error too), and the event parsed against its schema before the use case sees it.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context, SQSEvent } from "aws-lambda";
import type { z } from "zod";
import { HealthCheckEvent, type HealthReport, parseEvent, runHealthChecks } from "./lambda-events.js";
import { type SqsHandlerOptions, sqsHandler } from "./sqs-handler.js";

/** Named checks a health invocation runs; each answers a line of detail or throws what is wrong. */
export type HealthChecks = Record<string, () => Promise<string>>;

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/**
 * Answers {"action":"health"} with the function's health report and runs nothing else. It comes
 * first in the chain, so a health check opens no trace segment and flushes no metrics, as before.
 */
export function healthShortCircuit(checks: HealthChecks): MiddlewareObj<unknown, unknown> {
  return {
    before: async (request): Promise<HealthReport | undefined> =>
      HealthCheckEvent.safeParse(request.event).success ? runHealthChecks(checks) : undefined,
  };
}

/** Replaces the raw event with its parsed form; a bad event fails with parseEvent's actionable error. */
export function parsedEvent<T>(schema: z.ZodType<T>, functionName: string): MiddlewareObj<unknown, unknown> {
  return {
    before: (request) => {
      request.event = parseEvent(schema, request.event, functionName);
    },
  };
}

/** Powertools' own middy middlewares: tracer segment, logger context, metrics flush. */
export function powertools({ logger, metrics, tracer }: Observability): MiddlewareObj[] {
  // responses stay out of the trace: they are logged already, and can outgrow a segment document
  return [
    captureLambdaHandler(tracer, { captureResponse: false }),
    injectLambdaContext(logger),
    logMetrics(metrics),
  ];
}

export interface LambdaHandlerOptions<E> extends Observability {
  /** the function's name, as errors about its events say it */
  functionName: string;
  health: HealthChecks;
  /** the events it accepts beside the health check; without one, the step gets the raw event */
  schema?: z.ZodType<E>;
}

/** A deployed handler: the middy chain above around one use-case call. */
export function lambdaHandler<E, R>(
  options: LambdaHandlerOptions<E>,
  step: (event: E, context: Context) => Promise<R>,
) {
  const chain = middy<unknown, R | HealthReport>()
    .use(healthShortCircuit(options.health))
    .use(powertools(options));
  if (options.schema) chain.use(parsedEvent(options.schema, options.functionName));
  // after parsedEvent, the event is an E (without a schema, E is the raw event's own type)
  return chain.handler((event, context) => step(event as E, context));
}

/** A command an operator sends a queue consumer by hand (`aws lambda invoke`) instead of a batch. */
export interface OperatorCommand<C> {
  schema: z.ZodType<C>;
  run(command: C): Promise<unknown>;
}

/**
 * A queue consumer's handler: Powertools batch processing of the SQS event (partial batch
 * responses, runtime/sqs-handler.ts) in the chain above, and the operator's command when one is sent.
 */
export function queueHandler<T extends { recommendationId: string }, C>(
  options: Omit<LambdaHandlerOptions<never>, "schema">,
  queue: Omit<SqsHandlerOptions<T>, "logger">,
  command?: OperatorCommand<C>,
) {
  const consume = sqsHandler({ ...queue, logger: options.logger });
  return lambdaHandler<unknown, unknown>(options, async (event, context) => {
    const parsed = command?.schema.safeParse(event);
    if (command && parsed?.success) return command.run(parsed.data);
    return consume(event as SQSEvent, context);
  });
}
