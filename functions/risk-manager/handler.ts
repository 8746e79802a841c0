import { assessRecommendation } from "../shared/chain/assess-recommendation.js";
import { RiskRequest } from "../shared/domain/schemas.js";
import { queueSender } from "../shared/queues/sender.js";
import { riskLimitsFromConfig } from "../shared/risk/limits-from-config.js";
import { handlerContext } from "../shared/runtime/handler-context.js";
import { HealthCheckEvent, runHealthChecks } from "../shared/runtime/lambda-events.js";
import { countBy } from "../shared/runtime/observability.js";
import { sqsHandler } from "../shared/runtime/sqs-handler.js";

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
