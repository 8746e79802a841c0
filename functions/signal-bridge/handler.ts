import { queueSender } from "#queues/sender.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck } from "#runtime/health-checks.js";
import { recordBridgeCycle } from "#runtime/pipeline-metrics.js";
import { bridgeSettingsFromConfig } from "#runtime/settings-from-config.js";
import { recommendationQueuedEvents } from "#steps/chain-events.js";
import { runBridgeCycle } from "#steps/signal-bridge.js";

const { config, logger, metrics, stores, events, scheduled } = handlerContext("signal-bridge");
const sendToValidation = queueSender(process.env.VALIDATION_QUEUE_URL, "VALIDATION_QUEUE_URL");
const settings = bridgeSettingsFromConfig(config);

export const handler = scheduled({ store: killSwitchCheck(stores.killSwitch) }, async (at) => {
  const report = await runBridgeCycle({ ...stores, sendToValidation, log: logger }, settings, at);
  recordBridgeCycle(metrics, report);
  await publishStored(events, recommendationQueuedEvents(report, at), logger);
  logger.info("bridge cycle done", { report });
  return report;
});
