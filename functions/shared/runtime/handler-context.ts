/**
 * What every handler sets up once at init: validated configuration, a logger, metrics and a tracer
 * named after the function, the stores on the tables its environment names, and the builders of
 * its handler (runtime/middleware.ts) with all of that already wired in.
 */
import type { Context } from "aws-lambda";
import { loadConfig } from "#config";
import { createStores } from "#store/dynamo/index.js";
import { eventPublisherFromEnv } from "./event-bus.js";
import { isOperatorCommandEvent, parseEvent, runTime, ScheduledOrHealthEvent } from "./lambda-events.js";
import {
  type HealthChecks,
  type LambdaHandlerOptions,
  lambdaHandler,
  type Observability,
  type OperatorCommand,
  queueHandler,
} from "./middleware.js";
import { createLogger, createMetrics, createTracer } from "./observability.js";
import type { SqsHandlerOptions } from "./sqs-handler.js";

/** Logger, metrics and tracer of one function, and `handler` to build its middy chain. */
export function observability(service: string) {
  const o: Observability = {
    logger: createLogger(service),
    metrics: createMetrics(service),
    tracer: createTracer(service),
  };
  return {
    ...o,
    handler: <E, R>(
      options: Pick<LambdaHandlerOptions<E>, "health" | "schema">,
      step: (event: E, context: Context) => Promise<R>,
    ) => lambdaHandler({ ...o, functionName: service, ...options }, step),
    /** A queue consumer (and the operator's command, if it takes one); a health check answers. */
    consumer: <T extends { recommendationId: string }, C = never>(
      health: HealthChecks,
      queue: Omit<SqsHandlerOptions<T>, "logger">,
      command?: OperatorCommand<C>,
    ) => queueHandler({ ...o, functionName: service, health }, queue, command),
  };
}

const COMMAND_HINT =
  "Send one of the function's operator commands as events/<function>.<action>.json shows (README, operator commands).";

export function handlerContext(service: string) {
  const config = loadConfig();
  const o = observability(service);
  return {
    config,
    ...o,
    stores: createStores(),
    /** the bus domain events go to (EVENT_BUS_NAME), or none */
    events: eventPublisherFromEnv(o.logger),
    /**
     * A scheduled function: the step runs at the schedule's time (runTime), or a health check
     * answers; with `command`, an operator's command (any other `action`) runs instead.
     */
    scheduled: <R, C = never>(
      health: HealthChecks,
      step: (at: Date) => Promise<R>,
      command?: OperatorCommand<C>,
    ) => {
      const run = (event: ScheduledOrHealthEvent) => {
        if ("detail" in event && event["detail-type"] !== "Scheduled Event") {
          o.logger.info("run triggered by a domain event", { trigger: event.detail });
        }
        return step(runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES }));
      };
      if (!command) return o.handler({ health, schema: ScheduledOrHealthEvent }, run);
      return o.handler<unknown, unknown>({ health }, (event) =>
        isOperatorCommandEvent(event)
          ? command.run(parseEvent(command.schema, event, service, COMMAND_HINT))
          : run(parseEvent(ScheduledOrHealthEvent, event, service)),
      );
    },
  };
}
