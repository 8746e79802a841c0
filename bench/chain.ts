/**
 * The `chain` section: seconds from candle to order, hop by hop, on the local cloud (dynalite,
 * local-aws-sqs) with an Ollama-protocol server on 127.0.0.1 that approves at once, so what is
 * measured is the pipeline's own code and its stores, not a model.
 *
 * Each cycle replays one hourly close of data/replay (19 symbols) as the deployed chain runs it:
 * market data stores the candles and publishes CandlesClosed on the (in-process) bus; that runs
 * signal generation, whose SignalsWritten runs the bridge; the queued recommendations then go
 * through the validation, risk and execution queues, each drained by the same sqsHandler the
 * Lambdas use. Wall-clock times are taken when each stage is done with a recommendation:
 * candle available (market data starts) → signal written → recommendation queued → validated →
 * risk decided → order accepted. SQS → Lambda polling is not part of it (a drain starts as soon as
 * the previous stage is done), nor a cold GPU.
 *
 * To reach ≥ 100 recommendations, 72 closes are replayed and the bridge takes every BUY (confidence
 * > 0.5, up to 5 a cycle where a deployment's default is 3); the risk limits
 * and the paper cash are wide, so each one becomes an order. Every rule still runs.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SQSClient } from "@aws-sdk/client-sqs";
import { loadConfig } from "#config";
import {
  DEFAULT_DECISION_THRESHOLDS,
  DEFAULT_KILL_SWITCH_SETTINGS,
  DEFAULT_PAPER_ACCOUNT,
  DEFAULT_SIGNAL_TTL_DAYS,
} from "#defaults";
import { ExecutionRequest, RiskRequest, ValidationRequest } from "#domain/schemas.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { SERVING_WINDOW } from "#features/index.js";
import { createOllamaVerdictClient } from "#llm/index.js";
import { ingestCandles } from "#market-data/ingest.js";
import { ReplayCandleSource } from "#market-data/replay.js";
import type { SignalModel } from "#model/index.js";
import { QUEUES } from "#queues/definitions.js";
import { drainQueue } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";
import { closesNeededForVolatility, DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { InProcessBus, publishStored } from "#runtime/event-bus.js";
import { silentLog } from "#runtime/log.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { assessRecommendation } from "#steps/assess-recommendation.js";
import {
  candlesClosedEvents,
  recommendationQueuedEvents,
  signalsWrittenEvents,
} from "#steps/chain-events.js";
import { DEFAULT_EXECUTION_SETTINGS, executeTrade } from "#steps/execute-trade.js";
import { generateSignals } from "#steps/generate-signals.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { DEFAULT_BRIDGE_SETTINGS, runBridgeCycle } from "#steps/signal-bridge.js";
import { validateRecommendation } from "#steps/validate-recommendation.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import type { BenchFigure } from "./figures.js";
import { percentile } from "./stats.js";

export const CHAIN_TARGETS = { wholeP50Ms: 1500, wholeP99Ms: 3000, recommendations: 100 } as const;
/**
 * the bench's settings: every BUY becomes a recommendation (the bridge's own cap per cycle stays,
 * as deployed), and the limits and the money never run out, so every recommendation is an order
 */
const BENCH_MIN_CONFIDENCE = 0.5;
/** BRIDGE_MAX_PER_CYCLE 5 instead of 3: the quiet days of the replay give too few BUYs otherwise */
const BENCH_MAX_PER_CYCLE = 5;
const BENCH_CASH_USD = 10_000_000;
/** hourly closes replayed: enough for >= 100 recommendations at the bridge's cap per cycle */
const BENCH_CLOSES = 72;

export interface ChainBenchOptions {
  replayDir: string;
  symbols: readonly string[];
  /** hourly closes to replay, the last ones of the replay set */
  closes: readonly Date[];
  model: SignalModel;
  /** an Ollama-protocol server on 127.0.0.1 that approves at once */
  ollamaHost: string;
  queues: ChainQueues;
  portfolioTable: string;
}

export interface ChainQueues {
  validation: { url: string; arn: string };
  risk: { url: string; arn: string };
  execution: { url: string; arn: string };
}

const HOPS = [
  ["candle_to_signal", "available", "signal"],
  ["signal_to_queued", "signal", "queued"],
  ["queued_to_validated", "queued", "validated"],
  ["validated_to_risk", "validated", "decided"],
  ["risk_to_order", "decided", "accepted"],
  ["whole", "available", "accepted"],
] as const;
type Stamp = "available" | "signal" | "queued" | "validated" | "decided" | "accepted";

/** Replays the closes through the chain and returns p50/p99 per hop over the orders accepted. */
export async function benchChain(options: ChainBenchOptions): Promise<BenchFigure[]> {
  const granularity = "ONE_HOUR" as const;
  const stores = createStores(createDocumentClient());
  const sqs = new SQSClient({});
  const config = loadConfig({ TRADING_MODE: "paper", PAPER_STARTING_CASH_USD: String(BENCH_CASH_USD) });
  const venue = await createVenue(config, {
    db: createDocumentClient(),
    portfolioTable: options.portfolioTable,
    candles: stores.candles,
    granularity,
    rules: bundledRules(),
  });
  const limits = {
    ...DEFAULT_RISK_LIMITS,
    maxTradesPerDay: 100_000,
    maxAssetFraction: 1,
    maxTotalExposure: 1,
  };
  const bridgeSettings = {
    ...DEFAULT_BRIDGE_SETTINGS,
    minConfidence: BENCH_MIN_CONFIDENCE,
    maxPerCycle: BENCH_MAX_PER_CYCLE,
  };
  const sendToValidation = queueSender(options.queues.validation.url, QUEUES.validation.urlEnvVar, sqs);
  const sendToRisk = queueSender(options.queues.risk.url, QUEUES.risk.urlEnvVar, sqs);
  const sendToExecution = queueSender(options.queues.execution.url, QUEUES.execution.urlEnvVar, sqs);
  const verdicts = createOllamaVerdictClient({
    host: options.ollamaHost,
    model: "phi3:3.8b",
    timeoutMs: 5_000,
  });
  const logger = new Logger({ serviceName: "bench-chain", logLevel: "SILENT" });
  const replay = new ReplayCandleSource(options.replayDir);
  const bus = new InProcessBus();
  const times = new Map<string, Partial<Record<Stamp, number>>>();
  const stamp = (id: string, what: Stamp, at = performance.now()) => {
    const t = times.get(id) ?? {};
    t[what] = at;
    times.set(id, t);
  };
  let now = options.closes[0];
  let cycleStart = 0;
  let signalDone = 0;

  const validation = sqsHandler({
    queue: "validation",
    schema: ValidationRequest,
    logger,
    process: async (m) => {
      const r = await validateRecommendation(
        { ...stores, verdicts, sendToRisk, now: () => now, log: silentLog },
        m,
      );
      stamp(m.recommendationId, "validated");
      return r;
    },
  });
  const risk = sqsHandler({
    queue: "risk",
    schema: RiskRequest,
    logger,
    sequential: true,
    process: async (m) => {
      const r = await assessRecommendation(
        { ...stores, sendToExecution, log: silentLog },
        {
          limits,
          granularity,
          startingCashUsd: BENCH_CASH_USD,
          maxSnapshotAgeMinutes: 120,
          roundTripCost:
            (2 * (DEFAULT_PAPER_ACCOUNT.takerFeeBps + DEFAULT_PAPER_ACCOUNT.slippageBps)) / 10_000,
        },
        m,
        now,
      );
      stamp(m.recommendationId, "decided");
      return r;
    },
  });
  const execution = sqsHandler({
    queue: "execution",
    schema: ExecutionRequest,
    logger,
    process: async (m) => {
      const r = await executeTrade({ ...stores, exchange: venue.exchange, log: silentLog }, m, now, {
        ...DEFAULT_EXECUTION_SETTINGS,
        granularity,
      });
      if (r.outcome === "executed") stamp(m.recommendationId, "accepted");
      return r;
    },
  });
  const drain = (id: keyof ChainQueues, handler: Parameters<typeof drainQueue>[1]["handler"]) =>
    drainQueue(sqs, {
      queueUrl: options.queues[id].url,
      queueArn: options.queues[id].arn,
      handler,
      retryDelaySeconds: 0,
    });
  const reconcile = (at: Date) =>
    reconcilePortfolio(
      { ...stores, exchange: venue.exchange, marks: venue.marks, log: silentLog },
      {
        maxDailyLoss: limits.maxDailyLoss,
        maxDrawdown: limits.maxDrawdown,
        dailyLossResumesNextDay: DEFAULT_KILL_SWITCH_SETTINGS.dailyLossResumesNextDay,
        quoteCurrency: "USD",
        positions: { exits: DEFAULT_EXITS, intervalSeconds: 3600 },
      },
      at,
    );

  bus.subscribe("CandlesClosed", async (e) => {
    const report = await generateSignals(
      { candles: stores.candles, signals: stores.signals, model: options.model, log: silentLog },
      {
        symbols: e.symbols,
        granularity,
        thresholds: DEFAULT_DECISION_THRESHOLDS,
        ttlDays: DEFAULT_SIGNAL_TTL_DAYS,
        dataSource: "replay",
      },
      now,
    );
    signalDone = performance.now();
    await publishStored(bus, signalsWrittenEvents(report, now), silentLog);
  });
  bus.subscribe("SignalsWritten", async () => {
    const report = await runBridgeCycle({ ...stores, sendToValidation, log: silentLog }, bridgeSettings, now);
    const queuedAt = performance.now();
    for (const id of report.queued) {
      stamp(id, "available", cycleStart);
      stamp(id, "signal", signalDone);
      stamp(id, "queued", queuedAt);
    }
    await publishStored(bus, recommendationQueuedEvents(report, now), silentLog);
  });

  const backfill = Math.max(SERVING_WINDOW, closesNeededForVolatility(3600)) + 24;
  for (const [i, at] of options.closes.entries()) {
    now = at;
    if (i === 0) {
      // warm the stores with history, and a first equity snapshot, outside the clock
      await ingestCandles({
        source: replay,
        sink: stores.candles,
        symbols: options.symbols,
        granularity,
        backfillBuckets: backfill,
        nowMs: () => at.getTime() - 3_600_000,
      });
      await reconcile(at);
    }
    cycleStart = performance.now();
    const reports = await ingestCandles({
      source: replay,
      sink: stores.candles,
      symbols: options.symbols,
      granularity,
      backfillBuckets: backfill,
      nowMs: () => at.getTime(),
    });
    await publishStored(bus, candlesClosedEvents(reports, granularity, at), silentLog);
    await drain("validation", validation);
    await drain("risk", risk);
    await drain("execution", execution);
    await reconcile(at);
  }

  const done = [...times.values()].filter((t) => t.accepted !== undefined);
  const figures: BenchFigure[] = [
    { name: "chain.orders_accepted", value: done.length, unit: "recommendations" },
  ];
  figures[0].target = { comparison: ">=", value: CHAIN_TARGETS.recommendations };
  for (const [name, from, to] of HOPS) {
    const ms = done.map((t) => (t[to] as number) - (t[from] as number)).sort((a, b) => a - b);
    for (const p of [50, 99] as const) {
      const figure: BenchFigure = { name: `chain.${name}.p${p}`, value: percentile(ms, p / 100), unit: "ms" };
      if (name === "whole") {
        figure.target = {
          comparison: "<",
          value: p === 50 ? CHAIN_TARGETS.wholeP50Ms : CHAIN_TARGETS.wholeP99Ms,
        };
      }
      figures.push(figure);
    }
  }
  return figures;
}

/**
 * The section as `npm run bench` runs it: a fresh local cloud and an approving Ollama-protocol
 * server on 127.0.0.1 (stopped afterwards), the shipped model, the last `closes` hourly closes of
 * data/replay (72; 6 with --quick, which then reports fewer than 100 recommendations).
 */
export async function runChainBench(options: { root: string; quick: boolean }): Promise<BenchFigure[]> {
  const { join } = await import("node:path");
  const { startLocalCloud } = await import("#local/cloud.js");
  const { listCandleFiles, readCandleColumns } = await import("#market-data/replay.js");
  const { loadSignalModel } = await import("#model/index.js");
  const { startFakeOllama } = await import("#test/fakes/fake-ollama.js");
  const replayDir = join(options.root, "data/replay");
  const files = listCandleFiles(replayDir).filter((f) => f.granularity === "ONE_HOUR");
  const lastStart = Math.min(...files.map((f) => readCandleColumns(f.path).start.at(-1) ?? 0));
  const count = options.quick ? 6 : BENCH_CLOSES;
  const closes = Array.from(
    { length: count },
    (_, i) => new Date((lastStart + 3600 - (count - 1 - i) * 3600 + 60) * 1000),
  );
  const cloud = await startLocalCloud({ prefix: "bench-chain" });
  const ollama = await startFakeOllama();
  const model = await loadSignalModel(
    join(options.root, "models/signal-model.onnx"),
    join(options.root, "models/signal-model.card.json"),
  );
  try {
    return await benchChain({
      replayDir,
      symbols: files.map((f) => f.productId),
      closes,
      model,
      ollamaHost: ollama.host,
      queues: cloud.queues,
      portfolioTable: cloud.tables.portfolio,
    });
  } finally {
    await model.release();
    await ollama.close();
    await cloud.stop();
  }
}
