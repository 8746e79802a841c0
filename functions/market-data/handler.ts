import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { ingestCandles } from "#market-data/ingest.js";
import { resolveUniverse } from "#market-data/universe.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { latestCandleCheck } from "#runtime/health-checks.js";
import { recordIngest } from "#runtime/pipeline-metrics.js";
import { candlesClosedEvents } from "#steps/chain-events.js";

const { config, logger, metrics, stores, events, scheduled } = handlerContext("market-data");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const health = {
  store: latestCandleCheck(stores.candles, config.CANDLE_GRANULARITY),
  exchange: async () => `Coinbase time ${(await marketData.getServerTime()).iso}`,
};

export const handler = scheduled(health, async (at) => {
  const symbols = await resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData);
  const reports = await ingestCandles({
    source: marketData,
    sink: stores.candles,
    symbols,
    granularity: config.CANDLE_GRANULARITY,
    backfillBuckets: config.CANDLE_BACKFILL,
    nowMs: () => at.getTime(),
  });
  recordIngest(metrics, logger, reports);
  await publishStored(events, candlesClosedEvents(reports, config.CANDLE_GRANULARITY, at), logger);
  const failed = reports.filter((r) => !r.ok);
  if (failed.length === reports.length) {
    throw new Error(
      `market-data ingested nothing: every symbol failed (${failed.map((f) => f.symbol).join(", ")}); see the log.`,
    );
  }
  return { symbols: symbols.length, reports };
});
