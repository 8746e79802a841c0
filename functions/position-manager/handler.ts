import { exitSettingsFrom } from "#exits/exit-config.js";
import { queueSender } from "#queues/sender.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck, venueBalancesCheck } from "#runtime/health-checks.js";
import { positionManagerCommand } from "#runtime/operator-commands.js";
import { recordPositionManager } from "#runtime/pipeline-metrics.js";
import { deployedVenue } from "#runtime/venue.js";
import { DEFAULT_RESEND_AFTER_MS, managePositions } from "#steps/manage-positions.js";

const { config, logger, metrics, stores, scheduled } = handlerContext("position-manager");
const venue = await deployedVenue(config, stores.candles);
const sendToExecution = queueSender(process.env.EXECUTION_QUEUE_URL, "EXECUTION_QUEUE_URL");
const deps = { ...stores, exchange: venue.exchange, sendToExecution, log: logger };
const settings = {
  exits: exitSettingsFrom(config),
  resendAfterMs: DEFAULT_RESEND_AFTER_MS,
  maxExitAttempts: config.EXIT_MAX_ATTEMPTS,
  restingStops: config.EXIT_RESTING_STOP,
};
const health = { store: killSwitchCheck(stores.killSwitch), exchange: venueBalancesCheck(venue.exchange) };

// operators: {"action":"list" | "exit" | "exit-all" | "retry-exits", ...} (steps/manual-exit.ts)
const commands = positionManagerCommand(deps, settings, metrics);

export const handler = scheduled(
  health,
  async (now) => {
    const report = await managePositions(deps, settings, now);
    recordPositionManager(metrics, report);
    logger.info("positions managed", { report });
    return report;
  },
  commands,
);
