import middy from "@middy/core";
import { queueSender } from "#queues/sender.js";
import { handlerContext } from "#runtime/handler-context.js";
import { parseEvent, runHealthChecks, runTime, ScheduledOrHealthEvent } from "#runtime/lambda-events.js";
import { countBy } from "#runtime/observability.js";
import { DEFAULT_BRIDGE_SETTINGS, runBridgeCycle } from "#steps/signal-bridge.js";

const { config, logger, metrics, stores } = handlerContext("signal-bridge");
const sendToValidation = queueSender(process.env.VALIDATION_QUEUE_URL, "VALIDATION_QUEUE_URL");
const settings = {
  ...DEFAULT_BRIDGE_SETTINGS,
  minConfidence: config.BRIDGE_MIN_CONFIDENCE,
  amountUsd: config.RECOMMENDATION_AMOUNT_USD,
  lookbackMinutes: config.BRIDGE_LOOKBACK_MINUTES,
  queueWindowMinutes: config.BRIDGE_QUEUE_WINDOW_MINUTES,
  maxPerCycle: config.BRIDGE_MAX_PER_CYCLE,
};

export const handler = middy(async (raw: unknown) => {
  const event = parseEvent(ScheduledOrHealthEvent, raw, "signal-bridge");
  if ("action" in event && event.action === "health") {
    return runHealthChecks({
      store: async () => `kill switch ${(await stores.killSwitch.get()).active ? "ON" : "off"}`,
    });
  }
  const report = await runBridgeCycle(
    { ...stores, sendToValidation, log: logger },
    settings,
    runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES }),
  );
  countBy(metrics, "RecommendationsByState", "state", "PENDING", report.created.length);
  countBy(metrics, "RecommendationsByState", "state", "QUEUED", report.queued.length);
  countBy(metrics, "RecommendationsByState", "state", "EXPIRED", report.expired.length);
  logger.info("bridge cycle done", { report });
  return report;
});
