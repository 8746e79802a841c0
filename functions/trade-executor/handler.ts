import { ExecutionRequest } from "#domain/schemas.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck, venueBalancesCheck } from "#runtime/health-checks.js";
import { resolveStuckCommand } from "#runtime/operator-commands.js";
import { recordExecution } from "#runtime/pipeline-metrics.js";
import { deployedVenue } from "#runtime/venue.js";
import { orderPlacedEvents } from "#steps/chain-events.js";
import { executeTrade } from "#steps/execute-trade.js";

const { config, logger, metrics, stores, events, consumer } = handlerContext("trade-executor");
const venue = await deployedVenue(config, stores.candles);
logger.info("venue ready", { venue: venue.exchange.venue, mode: config.TRADING_MODE });
const deps = { ...stores, exchange: venue.exchange, log: logger };
const settings = {
  priceBand: config.EXECUTION_PRICE_BAND,
  granularity: config.CANDLE_GRANULARITY,
  claimLeaseMs: 120_000,
};
const health = { store: killSwitchCheck(stores.killSwitch), exchange: venueBalancesCheck(venue.exchange) };

const execution = {
  queue: "execution",
  schema: ExecutionRequest,
  process: async (message: ExecutionRequest) => {
    const now = new Date();
    const result = await executeTrade(deps, message, now, settings);
    const signal = () => stores.recommendations.get(message.recommendationId);
    await recordExecution(metrics, venue.exchange.venue, signal, result);
    await publishStored(events, orderPlacedEvents(message.recommendationId, result, now), logger);
    return result;
  },
};

export const handler = consumer(health, execution, resolveStuckCommand(deps, logger));
