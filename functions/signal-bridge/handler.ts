import { queueSender } from "#queues/sender.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck } from "#runtime/health-checks.js";
import { recordBridgeCycle } from "#runtime/pipeline-metrics.js";
import { DEFAULT_BRIDGE_SETTINGS, runBridgeCycle } from "#steps/signal-bridge.js";

const { config, logger, metrics, stores, scheduled } = handlerContext("signal-bridge");
const sendToValidation = queueSender(process.env.VALIDATION_QUEUE_URL, "VALIDATION_QUEUE_URL");
const settings = {
  ...DEFAULT_BRIDGE_SETTINGS,
  minConfidence: config.BRIDGE_MIN_CONFIDENCE,
  amountUsd: config.RECOMMENDATION_AMOUNT_USD,
  lookbackMinutes: config.BRIDGE_LOOKBACK_MINUTES,
  queueWindowMinutes: config.BRIDGE_QUEUE_WINDOW_MINUTES,
  maxPerCycle: config.BRIDGE_MAX_PER_CYCLE,
};

export const handler = scheduled({ store: killSwitchCheck(stores.killSwitch) }, async (at) => {
  const report = await runBridgeCycle({ ...stores, sendToValidation, log: logger }, settings, at);
  recordBridgeCycle(metrics, report);
  logger.info("bridge cycle done", { report });
  return report;
});
