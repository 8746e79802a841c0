import { resolve } from "node:path";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { resolveUniverse } from "#market-data/universe.js";
import { loadSignalModel } from "#model/index.js";
import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { latestCandleCheck } from "#runtime/health-checks.js";
import { recordSignalCycle } from "#runtime/pipeline-metrics.js";
import { signalSettingsFromConfig } from "#runtime/settings-from-config.js";
import { signalsWrittenEvents } from "#steps/chain-events.js";
import { generateSignals, signalCycleSummary } from "#steps/generate-signals.js";

const { config, logger, metrics, stores, events, scheduled } = handlerContext("signal-generator");
const marketData = new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL });
const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();

// No fallback: a model that is missing, corrupt or does not fit the features fails init; no signal.
const model = await loadSignalModel(resolve(root, config.MODEL_PATH), resolve(root, config.MODEL_CARD_PATH));
logger.info("model loaded", { model: model.name, version: model.version, sha256: model.sha256 });
const health = {
  model: async () => `${model.name} ${model.version} (${model.featureCount} features)`,
  store: latestCandleCheck(stores.candles, config.CANDLE_GRANULARITY),
};
const settings = signalSettingsFromConfig(config);

export const handler = scheduled(health, async (at) => {
  const started = performance.now();
  const symbols = await resolveUniverse(config.SYMBOLS, config.TOP_N_SYMBOLS, marketData);
  const deps = { candles: stores.candles, signals: stores.signals, model, log: logger };
  const report = await generateSignals(deps, { ...settings, symbols, dataSource: "coinbase" }, at);
  recordSignalCycle(metrics, report, performance.now() - started);
  await publishStored(events, signalsWrittenEvents(report, at), logger);
  if (report.failed.length > 0 && report.failed.length === symbols.length) {
    const why = report.failed.map((f) => `${f.symbol}: ${f.reason}`).join("; ");
    throw new Error(`signal-generator wrote nothing: every symbol failed (${why}).`);
  }
  return signalCycleSummary(report);
});
