import middy from "@middy/core";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { resolveUniverse } from "#market-data/universe.js";
import { handlerContext } from "#runtime/handler-context.js";
import { parseEvent, runHealthChecks, runTime, ScheduledOrHealthEvent } from "#runtime/lambda-events.js";
import { countBy, MetricUnit } from "#runtime/observability.js";
import { deployedVenue } from "#runtime/venue.js";
import { stuckExecutions } from "#steps/execute-trade.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";

const { config, logger, metrics, stores } = handlerContext("portfolio");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const venue = await deployedVenue(config, stores.candles);
const stuckAfterMs = config.EXECUTION_STUCK_MINUTES * 60_000;

/** Recommendations EXECUTING too long, as the operator's resolve-stuck command takes them. */
async function stuck(now: Date) {
  return (await stuckExecutions(stores.recommendations, now, stuckAfterMs)).map((r) => ({
    recommendationId: r.recommendationId,
    symbol: r.symbol,
    side: r.side,
    since: [...r.history].reverse().find((h) => h.to === "EXECUTING")?.at ?? r.updatedAt,
  }));
}

export const handler = middy(async (raw: unknown) => {
  const event = parseEvent(ScheduledOrHealthEvent, raw, "portfolio");
  if ("action" in event && event.action === "health") {
    return runHealthChecks({
      store: async () =>
        `latest equity ${(await stores.portfolio.latestEquitySnapshot())?.equityUsd ?? "none yet"}`,
      exchange: async () =>
        `${venue.exchange.venue}: ${Object.keys(await venue.exchange.getBalances()).length} balances`,
      executions: async () => {
        const list = await stuck(new Date());
        if (list.length === 0) return `none EXECUTING longer than ${config.EXECUTION_STUCK_MINUTES} min`;
        throw new Error(
          `${list.length} stuck EXECUTING (resolve each with the trade-executor's resolve-stuck action, docs/DEPLOY.md): ${JSON.stringify(list)}`,
        );
      },
    });
  }
  const settle = venue.settleRestingOrders;
  const now = runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES });
  const report = await reconcilePortfolio(
    {
      ...stores,
      exchange: venue.exchange,
      marks: venue.marks,
      log: logger,
      settleRestingOrders: settle
        ? async () => settle(await resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData))
        : undefined,
    },
    { maxDailyLoss: config.RISK_MAX_DAILY_LOSS, maxDrawdown: config.RISK_MAX_DRAWDOWN, quoteCurrency: "USD" },
    now,
  );
  const stuckNow = await stuck(now);
  if (stuckNow.length > 0) logger.error("recommendations stuck in EXECUTING", { stuck: stuckNow });
  const m = metrics.singleMetric();
  m.addMetric("EquityUsd", MetricUnit.Count, report.snapshot.equityUsd);
  m.addMetric("DrawdownPct", MetricUnit.Percent, report.snapshot.drawdownPct);
  m.addMetric("KillSwitchActive", MetricUnit.Count, (await stores.killSwitch.get()).active ? 1 : 0);
  countBy(metrics, "OrderFills", "venue", venue.exchange.venue, report.newFills.length);
  if (report.unknownExposure.length > 0)
    countBy(metrics, "UnknownExposure", "venue", venue.exchange.venue, report.unknownExposure.length);
  // every run, 0 included: the alarm on held assets that cannot be marked reads a continuous series
  countBy(metrics, "UnpricedAssets", "venue", venue.exchange.venue, report.unpriced.length);
  countBy(metrics, "StuckRecommendations", "venue", venue.exchange.venue, stuckNow.length);
  return {
    snapshot: report.snapshot,
    newFills: report.newFills.length,
    unknownExposure: report.unknownExposure,
    unpriced: report.unpriced,
    stuck: stuckNow,
    killSwitchTripped: report.killSwitchTripped,
  };
});
