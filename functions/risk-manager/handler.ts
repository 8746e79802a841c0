import { RiskRequest } from "#domain/schemas.js";
import { queueSender } from "#queues/sender.js";
import { riskLimitsFromConfig } from "#risk/limits-from-config.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck } from "#runtime/health-checks.js";
import { recordRiskOutcome } from "#runtime/pipeline-metrics.js";
import { assessRecommendation } from "#steps/assess-recommendation.js";
import { riskDecidedEvents } from "#steps/chain-events.js";

const { config, logger, metrics, stores, events, consumer } = handlerContext("risk-manager");
const sendToExecution = queueSender(process.env.EXECUTION_QUEUE_URL, "EXECUTION_QUEUE_URL");
const deps = { ...stores, sendToExecution, log: logger };
const settings = {
  limits: riskLimitsFromConfig(config),
  granularity: config.CANDLE_GRANULARITY,
  startingCashUsd: config.PAPER_STARTING_CASH_USD,
  maxSnapshotAgeMinutes: config.RISK_MAX_SNAPSHOT_AGE_MINUTES,
  // the paper venue's costs stand for the venue's (both sides: taker fee and slippage)
  roundTripCost: (2 * (config.PAPER_TAKER_FEE_BPS + config.PAPER_SLIPPAGE_BPS)) / 10_000,
};

export const handler = consumer(
  { store: killSwitchCheck(stores.killSwitch) },
  {
    queue: "risk",
    schema: RiskRequest,
    // one at a time: the risk manager must see each approval before it assesses the next
    sequential: true,
    process: async (message) => {
      const now = new Date();
      const result = await assessRecommendation(deps, settings, message, now);
      recordRiskOutcome(metrics, result);
      await publishStored(events, riskDecidedEvents(message.recommendationId, result, now), logger);
      return { outcome: result.outcome };
    },
  },
);
