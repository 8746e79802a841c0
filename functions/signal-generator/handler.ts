import { resolve } from "node:path";
import middy from "@middy/core";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { resolveUniverse } from "#market-data/universe.js";
import { loadSignalModel } from "#model/index.js";
import { handlerContext } from "#runtime/handler-context.js";
import { parseEvent, runHealthChecks, runTime, ScheduledOrHealthEvent } from "#runtime/lambda-events.js";
import { countBy, MetricUnit } from "#runtime/observability.js";
import { generateSignals } from "#steps/generate-signals.js";

const { config, logger, metrics, stores } = handlerContext("signal-generator");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();

// No fallback: if the model is missing, corrupt or does not fit the features, init fails here and
// the function writes no signal at all.
const model = await loadSignalModel(resolve(root, config.MODEL_PATH), resolve(root, config.MODEL_CARD_PATH));
logger.info("model loaded", { model: model.name, version: model.version, sha256: model.sha256 });

export const handler = middy(async (raw: unknown) => {
  const event = parseEvent(ScheduledOrHealthEvent, raw, "signal-generator");
  if ("action" in event && event.action === "health") {
    return runHealthChecks({
      model: async () => `${model.name} ${model.version} (${model.featureCount} features)`,
      store: async () =>
        `latest BTC-USD candle ${await stores.candles.latestCandleStart("BTC-USD", config.CANDLE_GRANULARITY)}`,
    });
  }
  const at = runTime(event, { maxAgeMinutes: config.SCHEDULED_EVENT_MAX_AGE_MINUTES });
  const started = performance.now();
  const symbols = await resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData);
  const report = await generateSignals(
    { candles: stores.candles, signals: stores.signals, model, log: logger },
    {
      symbols,
      granularity: config.CANDLE_GRANULARITY,
      thresholds: { buy: config.SIGNAL_BUY_THRESHOLD, sell: config.SIGNAL_SELL_THRESHOLD },
      ttlDays: config.SIGNAL_TTL_DAYS,
      dataSource: "coinbase",
    },
    at,
  );
  for (const s of report.signals) countBy(metrics, "SignalsGenerated", "signalType", s.signalType);
  for (const f of report.failed) countBy(metrics, "SymbolFailed", "symbol", f.symbol);
  const latency = metrics.singleMetric();
  latency.addMetric("SignalCycleMs", MetricUnit.Milliseconds, performance.now() - started);
  latency.addMetric("InferenceMs", MetricUnit.Milliseconds, report.inferenceMs);
  if (report.failed.length > 0 && report.failed.length === symbols.length) {
    throw new Error(
      `signal-generator wrote nothing: every symbol failed (${report.failed.map((f) => `${f.symbol}: ${f.reason}`).join("; ")}).`,
    );
  }
  return {
    written: report.written,
    signals: report.signals.map((s) => ({ symbol: s.symbol, type: s.signalType, confidence: s.confidence })),
    skipped: report.skipped,
    failed: report.failed,
  };
});
