import type { Context, SQSEvent } from "aws-lambda";
import { ExecutionRequest } from "#domain/schemas.js";
import { handlerContext } from "#runtime/handler-context.js";
import { HealthCheckEvent, runHealthChecks } from "#runtime/lambda-events.js";
import { countBy, MetricUnit } from "#runtime/observability.js";
import { ResolveStuckCommand } from "#runtime/operator-commands.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { deployedVenue } from "#runtime/venue.js";
import { executeTrade, resolveStuckExecution } from "#steps/execute-trade.js";

const { config, logger, metrics, stores } = handlerContext("trade-executor");
const venue = await deployedVenue(config, stores.candles);
logger.info("venue ready", { venue: venue.exchange.venue, mode: config.TRADING_MODE });
const deps = { ...stores, exchange: venue.exchange, log: logger };
const settings = {
  priceBand: config.EXECUTION_PRICE_BAND,
  granularity: config.CANDLE_GRANULARITY,
  claimLeaseMs: 120_000,
};

const consume = sqsHandler({
  queue: "execution",
  schema: ExecutionRequest,
  logger,
  process: async (message) => {
    const result = await executeTrade(deps, message, new Date(), settings);
    if (result.outcome === "executed") {
      countBy(metrics, "OrdersPlaced", "venue", venue.exchange.venue);
      countBy(metrics, "RecommendationsByState", "state", "EXECUTED");
      const rec = await stores.recommendations.get(message.recommendationId);
      const fillPrice = Number(result.order.averageFilledPrice);
      if (rec && fillPrice > 0) {
        // against the signal's price: positive = paid more (BUY) or got less (SELL)
        const signed = rec.side === "BUY" ? fillPrice - rec.entryPrice : rec.entryPrice - fillPrice;
        const m = metrics.singleMetric();
        m.addDimension("venue", venue.exchange.venue);
        m.addMetric("SlippageBps", MetricUnit.Count, (signed / rec.entryPrice) * 10_000);
      }
    } else if (result.outcome === "failed") {
      countBy(metrics, "RecommendationsByState", "state", "FAILED");
      if (result.priceRefusal) metrics.singleMetric().addMetric("ExecutionPriceRefused", MetricUnit.Count, 1);
    } else if (result.outcome === "cancelled") {
      countBy(metrics, "RecommendationsByState", "state", "CANCELLED");
    } else if (result.outcome === "message-refused") {
      metrics.singleMetric().addMetric("ExecutionMessageMismatch", MetricUnit.Count, 1);
    }
    return result;
  },
});

export const handler = async (event: unknown, context?: Context) => {
  if (HealthCheckEvent.safeParse(event).success) {
    return runHealthChecks({
      store: async () => `kill switch ${(await stores.killSwitch.get()).active ? "ON" : "off"}`,
      exchange: async () =>
        `${venue.exchange.venue}: ${Object.keys(await venue.exchange.getBalances()).length} balances`,
    });
  }
  const resolve = ResolveStuckCommand.safeParse(event);
  if (resolve.success) {
    const result = await resolveStuckExecution(deps, resolve.data.recommendationId, new Date());
    logger.warn("stuck execution resolved by an operator", {
      correlationId: resolve.data.recommendationId,
      by: resolve.data.by,
      ...result,
    });
    return result;
  }
  return consume(event as SQSEvent, context);
};
