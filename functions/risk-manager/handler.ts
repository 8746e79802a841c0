import { RiskRequest } from "#domain/schemas.js";
import { queueSender } from "#queues/sender.js";
import { riskLimitsFromConfig } from "#risk/limits-from-config.js";
import { handlerContext } from "#runtime/handler-context.js";
import { HealthCheckEvent, runHealthChecks } from "#runtime/lambda-events.js";
import { countBy } from "#runtime/observability.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { assessRecommendation } from "#steps/assess-recommendation.js";

const { config, logger, metrics, stores } = handlerContext("risk-manager");
const sendToExecution = queueSender(process.env.EXECUTION_QUEUE_URL, "EXECUTION_QUEUE_URL");
const settings = {
  limits: riskLimitsFromConfig(config),
  granularity: config.CANDLE_GRANULARITY,
  startingCashUsd: config.PAPER_STARTING_CASH_USD,
  maxSnapshotAgeMinutes: config.RISK_MAX_SNAPSHOT_AGE_MINUTES,
};

const consume = sqsHandler({
  queue: "risk",
  schema: RiskRequest,
  logger,
  sequential: true,
  process: async (message) => {
    const result = await assessRecommendation(
      { ...stores, sendToExecution, log: logger },
      settings,
      message,
      new Date(),
    );
    if (result.outcome === "refused") {
      for (const r of result.decision.refusals) countBy(metrics, "RiskRefusals", "reason", r.reason);
      countBy(metrics, "RecommendationsByState", "state", "REFUSED_BY_RISK");
    } else if (result.outcome === "approved") {
      countBy(metrics, "RecommendationsByState", "state", "RISK_APPROVED");
    }
    return { outcome: result.outcome };
  },
});

export const handler = async (event: unknown, context?: import("aws-lambda").Context) => {
  if (HealthCheckEvent.safeParse(event).success) {
    return runHealthChecks({
      store: async () => `kill switch ${(await stores.killSwitch.get()).active ? "ON" : "off"}`,
    });
  }
  return consume(event as import("aws-lambda").SQSEvent, context);
};
