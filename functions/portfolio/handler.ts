import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { resolveUniverse } from "#market-data/universe.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import * as checks from "#runtime/health-checks.js";
import { recordReconcile } from "#runtime/pipeline-metrics.js";
import { reconcileSettingsFromConfig } from "#runtime/settings-from-config.js";
import { deployedVenue } from "#runtime/venue.js";
import { reconcileEvents } from "#steps/chain-events.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";

const { config, logger, metrics, stores, events, scheduled } = handlerContext("portfolio");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const venue = await deployedVenue(config, stores.candles);
const stuckAt = (now: Date) =>
  checks.stuckExecutionList(stores.recommendations, now, config.EXECUTION_STUCK_MINUTES);
const health = {
  store: checks.latestEquityCheck(stores.portfolio),
  exchange: checks.venueBalancesCheck(venue.exchange),
  executions: checks.stuckExecutionsCheck(stuckAt, config.EXECUTION_STUCK_MINUTES),
};
const settle = venue.settleRestingOrders;
const universe = () => resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData);
const settleRestingOrders = settle ? async () => settle(await universe()) : undefined;
const deps = { ...stores, exchange: venue.exchange, marks: venue.marks, log: logger, settleRestingOrders };
const settings = reconcileSettingsFromConfig(config);

export const handler = scheduled(health, async (now) => {
  const report = await reconcilePortfolio(deps, settings, now);
  const stuck = await stuckAt(now);
  if (stuck.length > 0) logger.error("recommendations stuck in EXECUTING", { stuck });
  const killSwitchActive = async () => (await stores.killSwitch.get()).active;
  await recordReconcile(metrics, venue.exchange.venue, report, { killSwitchActive, stuck: stuck.length });
  await publishStored(events, reconcileEvents(report, now), logger);
  const { snapshot, unknownExposure, unpriced, killSwitchTripped } = report;
  return { snapshot, newFills: report.newFills.length, unknownExposure, unpriced, stuck, killSwitchTripped };
});
