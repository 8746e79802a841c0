import middy from "@middy/core";
import { reconcilePortfolio } from "../shared/chain/reconcile-portfolio.js";
import { CoinbaseMarketData } from "../shared/coinbase/market-data.js";
import { deployedVenue } from "../shared/exchange/venue.js";
import { resolveUniverse } from "../shared/market-data/universe.js";
import { handlerContext } from "../shared/runtime/handler-context.js";
import {
  parseEvent,
  runHealthChecks,
  runTime,
  ScheduledOrHealthEvent,
} from "../shared/runtime/lambda-events.js";
import { countBy, MetricUnit } from "../shared/runtime/observability.js";

const { config, logger, metrics, stores } = handlerContext("portfolio");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const venue = await deployedVenue(config, stores.candles);

export const handler = middy(async (raw: unknown) => {
  const event = parseEvent(ScheduledOrHealthEvent, raw, "portfolio");
  if ("action" in event && event.action === "health") {
    return runHealthChecks({
      store: async () =>
        `latest equity ${(await stores.portfolio.latestEquitySnapshot())?.equityUsd ?? "none yet"}`,
      exchange: async () =>
        `${venue.exchange.venue}: ${Object.keys(await venue.exchange.getBalances()).length} balances`,
    });
  }
  const settle = venue.settleRestingOrders;
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
    runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES }),
  );
  const m = metrics.singleMetric();
  m.addMetric("EquityUsd", MetricUnit.Count, report.snapshot.equityUsd);
  m.addMetric("DrawdownPct", MetricUnit.Percent, report.snapshot.drawdownPct);
  m.addMetric("KillSwitchActive", MetricUnit.Count, (await stores.killSwitch.get()).active ? 1 : 0);
  countBy(metrics, "OrderFills", "venue", venue.exchange.venue, report.newFills.length);
  if (report.unknownExposure.length > 0)
    countBy(metrics, "UnknownExposure", "venue", venue.exchange.venue, report.unknownExposure.length);
  // every run, 0 included: the alarm on held assets that cannot be marked reads a continuous series
  countBy(metrics, "UnpricedAssets", "venue", venue.exchange.venue, report.unpriced.length);
  return {
    snapshot: report.snapshot,
    newFills: report.newFills.length,
    unknownExposure: report.unknownExposure,
    unpriced: report.unpriced,
    killSwitchTripped: report.killSwitchTripped,
  };
});
