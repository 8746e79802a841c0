/**
 * The whole pipeline on the local cloud, cycle by cycle over replayed candles: ingest → signals →
 * bridge → LLM validation → risk → execution → portfolio → position manager (its exits executed and
 * booked by a second portfolio pass). Every stage is the same domain code the
 * Lambdas run; the queues are real (local SQS) and consumed through the same SQS batch handler, so
 * retries and dead-letter queues behave as in AWS. Time is the replay's: each cycle runs one minute
 * after a candle closed. The risk manager sizes entries only against a current equity snapshot, so
 * the first cycle takes one (after its ingest) when the store has none yet.
 *
 * `createPipeline` is the same cycle on any stores and queues: the step-driven backtest
 * (backtest/step-replay.ts) runs it on in-memory stores and in-process queues (chain-queues.ts).
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  DEFAULT_DECISION_THRESHOLDS,
  DEFAULT_GRANULARITY,
  DEFAULT_KILL_SWITCH_SETTINGS,
  DEFAULT_PAPER_ACCOUNT,
  DEFAULT_SIGNAL_TTL_DAYS,
} from "#defaults";
import {
  type DataSource,
  ExecutionRequest,
  GRANULARITY_SECONDS,
  type Granularity,
  RiskRequest,
  ValidationRequest,
} from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import { DEFAULT_EXITS, type ExitSettings } from "#exits/exit-settings.js";
import { SERVING_WINDOW } from "#features/index.js";
import type { VerdictSource } from "#llm/index.js";
import { type CandleSource, ingestCandles } from "#market-data/ingest.js";
import { ReplayCandleSource } from "#market-data/replay.js";
import type { SignalModel } from "#model/index.js";
import { closesNeededForVolatility, DEFAULT_RISK_LIMITS, type RiskLimits } from "#risk/index.js";
import { InProcessBus, publishStored } from "#runtime/event-bus.js";
import type { Log } from "#runtime/log.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { assessRecommendation } from "#steps/assess-recommendation.js";
import {
  candlesClosedEvents,
  recommendationQueuedEvents,
  signalsWrittenEvents,
} from "#steps/chain-events.js";
import { DEFAULT_EXECUTION_SETTINGS, executeTrade } from "#steps/execute-trade.js";
import { generateSignals, type SignalCycleReport } from "#steps/generate-signals.js";
import { DEFAULT_RESEND_AFTER_MS, managePositions } from "#steps/manage-positions.js";
import { type MarkSource, reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { type BridgeReport, DEFAULT_BRIDGE_SETTINGS, runBridgeCycle } from "#steps/signal-bridge.js";
import { validateRecommendation } from "#steps/validate-recommendation.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import type { Stores } from "#store/ports.js";
import { type ChainQueues, sqsChainQueues } from "./chain-queues.js";
import type { LocalCloud } from "./cloud.js";
import { type ReplayClock, replayClock } from "./replay-clock.js";

/** What the pipeline runs on: the stores and the chain's queues. */
export interface PipelinePorts {
  stores: Stores;
  queues: ChainQueues;
}

export interface LocalPipelineOptions {
  /** the replay files, read when no `source` is given */
  candlesDir?: string;
  /** where candles come from; default the replay files in candlesDir */
  source?: CandleSource;
  /** what the signals say their candles came from; default "replay" */
  dataSource?: DataSource;
  symbols: readonly string[];
  granularity?: Granularity;
  /** the cycles: one per candle close in [from, to) */
  from: Date;
  to: Date;
  model: SignalModel;
  /** undefined: no LLM answered, so validation is not attempted (recommendations stay QUEUED) */
  verdicts: VerdictSource | undefined;
  exchange: Exchange;
  /** the paper venue fills resting limit orders each portfolio cycle */
  settleRestingOrders?: () => Promise<void>;
  marks: MarkSource;
  startingCashUsd: number;
  limits?: RiskLimits;
  /** BUYs wait for a snapshot younger than this; default two cycles (the portfolio runs once a cycle) */
  maxSnapshotAgeMinutes?: number;
  thresholds?: { buy: number; sell: number };
  bridge?: typeof DEFAULT_BRIDGE_SETTINGS;
  /** how positions leave (EXIT_*, KILL_SWITCH_FLATTEN); default DEFAULT_EXITS */
  exits?: ExitSettings;
  /**
   * rest each position's stop on the venue (EXIT_RESTING_STOP); default off here: the replay's
   * figures in the README were measured with the manager's every-minute stop alone
   */
  restingStops?: boolean;
  log: Log;
  /** a logger for the SQS batch handlers (Powertools Logger) */
  handlerLogger: Parameters<typeof sqsHandler>[0]["logger"];
  onCycle?(cycle: CycleReport): void;
  /**
   * the replay's clock, advanced at each cycle; pass the one the paper venue reads (VenueDeps.now) so
   * its fills carry the replay time as the orders do. Default: a clock of this pipeline's own.
   */
  clock?: ReplayClock;
}

export interface CycleReport {
  at: string;
  ingested: number;
  signals: number;
  created: number;
  queued: number;
  validated: number;
  risk: number;
  executed: number;
  /** exits the position manager issued this cycle (STOP_LOSS, TAKE_PROFIT_1, ...) */
  exits: string[];
  equityUsd: number;
}

export interface LocalPipeline {
  stores: Stores;
  /** the in-process bus the chain's domain events go through, as on the deployed `trading` bus */
  bus: InProcessBus;
  runCycle(at: Date): Promise<CycleReport>;
  run(): Promise<CycleReport[]>;
}

/** The pipeline on the local cloud: its DynamoDB tables and SQS queues. */
export function createLocalPipeline(
  cloud: Pick<LocalCloud, "queues">,
  options: LocalPipelineOptions,
): LocalPipeline {
  return createPipeline(
    { stores: createStores(createDocumentClient()), queues: sqsChainQueues(new SQSClient({}), cloud.queues) },
    options,
  );
}

/** The pipeline on any stores and queues: the same steps, stages and order whatever they are. */
export function createPipeline(ports: PipelinePorts, options: LocalPipelineOptions): LocalPipeline {
  const granularity = options.granularity ?? DEFAULT_GRANULARITY;
  const interval = GRANULARITY_SECONDS[granularity];
  const { stores, queues } = ports;
  if (!options.source && !options.candlesDir)
    throw new Error("the pipeline needs a candle source: pass `source` or the replay files' `candlesDir`");
  const source = options.source ?? new ReplayCandleSource(options.candlesDir!);
  const limits = options.limits ?? DEFAULT_RISK_LIMITS;
  const sendToValidation = queues.validation.send;
  const sendToRisk = queues.risk.send;
  const sendToExecution = queues.execution.send;
  const maxSnapshotAgeMinutes = options.maxSnapshotAgeMinutes ?? (2 * interval) / 60;
  const exits = options.exits ?? DEFAULT_EXITS;
  const clock = options.clock ?? replayClock(options.from);
  let snapshotChecked = false;

  const validationHandler = options.verdicts
    ? sqsHandler({
        queue: "validation",
        schema: ValidationRequest,
        logger: options.handlerLogger,
        process: (message) =>
          validateRecommendation(
            { ...stores, verdicts: options.verdicts!, sendToRisk, now: clock.now, log: options.log },
            message,
          ),
      })
    : undefined;
  const riskHandler = sqsHandler({
    queue: "risk",
    schema: RiskRequest,
    logger: options.handlerLogger,
    sequential: true,
    process: (message) =>
      assessRecommendation(
        { ...stores, sendToExecution, log: options.log },
        {
          limits,
          granularity,
          startingCashUsd: options.startingCashUsd,
          maxSnapshotAgeMinutes,
          // as the risk-manager handler: the paper costs, both sides
          roundTripCost:
            (2 * (DEFAULT_PAPER_ACCOUNT.takerFeeBps + DEFAULT_PAPER_ACCOUNT.slippageBps)) / 10_000,
        },
        message,
        clock.now(),
      ),
  });
  const executionHandler = sqsHandler({
    queue: "execution",
    schema: ExecutionRequest,
    logger: options.handlerLogger,
    process: (message) =>
      executeTrade({ ...stores, exchange: options.exchange, log: options.log }, message, clock.now(), {
        ...DEFAULT_EXECUTION_SETTINGS,
        granularity,
      }),
  });

  const drain = (id: keyof ChainQueues, handler: Parameters<ChainQueues[typeof id]["drain"]>[0]) =>
    queues[id].drain(handler);

  const reconcile = (at: Date) =>
    reconcilePortfolio(
      {
        ...stores,
        exchange: options.exchange,
        marks: options.marks,
        log: options.log,
        settleRestingOrders: options.settleRestingOrders,
      },
      {
        maxDailyLoss: limits.maxDailyLoss,
        maxDrawdown: limits.maxDrawdown,
        dailyLossResumesNextDay: DEFAULT_KILL_SWITCH_SETTINGS.dailyLossResumesNextDay,
        quoteCurrency: "USD",
        positions: { exits, intervalSeconds: interval },
      },
      at,
    );
  const manage = (at: Date) =>
    managePositions(
      { ...stores, exchange: options.exchange, sendToExecution, log: options.log },
      { exits, resendAfterMs: DEFAULT_RESEND_AFTER_MS, restingStops: options.restingStops ?? false },
      at,
    );

  // the event-driven chain, as deployed: CandlesClosed runs signal generation, whose SignalsWritten
  // runs the bridge (functions' rules on the trading bus); what no event ran, the schedule runs
  const bus = new InProcessBus();
  let cycle: { at: Date; signals?: SignalCycleReport; bridge?: BridgeReport } = { at: options.from };
  const signalStage = async (): Promise<SignalCycleReport> => {
    const { at } = cycle;
    cycle.signals = await generateSignals(
      { candles: stores.candles, signals: stores.signals, model: options.model, log: options.log },
      {
        symbols: options.symbols,
        granularity,
        thresholds: options.thresholds ?? DEFAULT_DECISION_THRESHOLDS,
        ttlDays: DEFAULT_SIGNAL_TTL_DAYS,
        dataSource: options.dataSource ?? "replay",
      },
      at,
    );
    await publishStored(bus, signalsWrittenEvents(cycle.signals, at), options.log);
    return cycle.signals;
  };
  const bridgeStage = async (): Promise<BridgeReport> => {
    const { at } = cycle;
    cycle.bridge = await runBridgeCycle(
      { ...stores, sendToValidation, log: options.log },
      options.bridge ?? DEFAULT_BRIDGE_SETTINGS,
      at,
    );
    await publishStored(bus, recommendationQueuedEvents(cycle.bridge, at), options.log);
    return cycle.bridge;
  };
  bus.subscribe("CandlesClosed", async () => {
    await signalStage();
  });
  bus.subscribe("SignalsWritten", async () => {
    await bridgeStage();
  });

  async function runCycle(at: Date): Promise<CycleReport> {
    clock.advanceTo(at);
    const backfill = Math.max(SERVING_WINDOW, closesNeededForVolatility(interval)) + 24;
    const ingest = await ingestCandles({
      source,
      sink: stores.candles,
      symbols: options.symbols,
      granularity,
      backfillBuckets: backfill,
      nowMs: () => at.getTime(),
    });
    for (const r of ingest)
      if (!r.ok) options.log.warn("replay ingest failed", { symbol: r.symbol, error: r.error });
    if (!snapshotChecked) {
      // as in AWS, where the portfolio runs every minute: no entry is sized before a first snapshot
      if (!(await stores.portfolio.latestEquitySnapshot())) await reconcile(at);
      snapshotChecked = true;
    }
    cycle = { at };
    await publishStored(bus, candlesClosedEvents(ingest, granularity, at), options.log);
    // the schedules' safety net: a stage no event ran this cycle runs now
    const signals = cycle.signals ?? (await signalStage());
    const bridge = cycle.bridge ?? (await bridgeStage());
    const validated = validationHandler ? await drain("validation", validationHandler) : { received: 0 };
    const risk = await drain("risk", riskHandler);
    const executed = await drain("execution", executionHandler);
    await reconcile(at);
    // as in AWS, where the position manager runs every minute after the portfolio opened the entries
    const managed = await manage(at);
    const exitsExecuted = await drain("execution", executionHandler);
    const portfolio = await reconcile(at);
    const report: CycleReport = {
      at: at.toISOString(),
      ingested: ingest.reduce((n, r) => n + r.written, 0),
      signals: signals.signals.length,
      created: bridge.created.length,
      queued: bridge.queued.length,
      validated: validated.received,
      risk: risk.received,
      executed: executed.received + exitsExecuted.received,
      exits: managed.issued.map((e) => `${e.label} ${e.symbol}`),
      equityUsd: portfolio.snapshot.equityUsd,
    };
    options.onCycle?.(report);
    return report;
  }

  return {
    stores,
    bus,
    runCycle,
    async run() {
      const reports: CycleReport[] = [];
      // one cycle a minute after each candle close in [from, to)
      const first = Math.ceil(options.from.getTime() / 1000 / interval) * interval;
      for (let close = first; close < options.to.getTime() / 1000; close += interval) {
        reports.push(await runCycle(new Date((close + 60) * 1000)));
      }
      return reports;
    },
  };
}
