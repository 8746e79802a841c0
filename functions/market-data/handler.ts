import middy from "@middy/core";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { ingestCandles } from "#market-data/ingest.js";
import { resolveUniverse } from "#market-data/universe.js";
import { handlerContext } from "#runtime/handler-context.js";
import { parseEvent, runHealthChecks, runTime, ScheduledOrHealthEvent } from "#runtime/lambda-events.js";
import { countBy } from "#runtime/observability.js";

const { config, logger, metrics, stores } = handlerContext("market-data");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });

export const handler = middy(async (raw: unknown) => {
  const event = parseEvent(ScheduledOrHealthEvent, raw, "market-data");
  if ("action" in event && event.action === "health") {
    return runHealthChecks({
      store: async () =>
        `latest BTC-USD candle ${await stores.candles.latestCandleStart("BTC-USD", config.CANDLE_GRANULARITY)}`,
      exchange: async () => `Coinbase time ${(await marketData.getServerTime()).iso}`,
    });
  }
  const at = runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES });
  const symbols = await resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData);
  const reports = await ingestCandles({
    source: marketData,
    sink: stores.candles,
    symbols,
    granularity: config.CANDLE_GRANULARITY,
    backfillBuckets: config.CANDLE_BACKFILL,
    nowMs: () => at.getTime(),
  });
  for (const r of reports) {
    if (!r.ok) {
      logger.error("ingest failed for a symbol", { report: r });
      countBy(metrics, "SymbolFailed", "symbol", r.symbol);
    } else if (r.gaps.length > 0) logger.warn("gaps in the candles", { symbol: r.symbol, gaps: r.gaps });
    countBy(metrics, "CandlesIngested", "symbol", r.symbol, r.ok ? r.written : 0);
  }
  const failed = reports.filter((r) => !r.ok);
  if (failed.length === reports.length) {
    throw new Error(
      `market-data ingested nothing: every symbol failed (${failed.map((f) => f.symbol).join(", ")}); see the log.`,
    );
  }
  return { symbols: symbols.length, reports };
});
