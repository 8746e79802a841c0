/**
 * The step-driven replay: the live pipeline itself, cycle by cycle, on in-memory stores, in-process
 * queues and the paper venue. Each cycle is `createPipeline`'s (local/pipeline.ts, the same one
 * `npm start` runs): ingest the closed candle, generate signals with the model (features and
 * inference on the serving window, as the signal-generator Lambda), the bridge, validation, risk,
 * execution, the portfolio step (the paper venue settles resting orders there), the position
 * manager and its exits. No rule of the chain is restated here: this module only feeds candles in
 * and reads orders, fills and equity back out of the stores.
 *
 * What it does not have that live has: an LLM. Every queued recommendation is approved at once, as
 * the fast replay (engine.ts) counts it ("LLM veto: not applied"). It is the reference the fast
 * replay is held to (test/backtest/step-parity.test.ts and `npm run backtest -- --check-steps`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DEFAULT_PAPER_ACCOUNT } from "#defaults";
import type { Granularity } from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import { decimalTextOf } from "#exchange/order-math.js";
import { candlePriceSource, MemoryPaperBooks, PaperExchange } from "#exchange/paper/index.js";
import type { ValidationPrompt, VerdictAnswer, VerdictSource } from "#llm/index.js";
import { type DeadLetter, inProcessChainQueues } from "#local/chain-queues.js";
import { createPipeline } from "#local/pipeline.js";
import { replayClock } from "#local/replay-clock.js";
import type { RunSummary } from "#local/run-summary.js";
import { summarizeRun } from "#local/summary.js";
import type { CandleSource } from "#market-data/ingest.js";
import { columnCandlesBetween } from "#market-data/replay.js";
import type { SignalModel } from "#model/index.js";
import type { Log } from "#runtime/log.js";
import { silentLog } from "#runtime/log.js";
import { candleMarks } from "#runtime/venue.js";
import type { MarkSource } from "#steps/reconcile-portfolio.js";
import { createMemoryStores } from "#store/memory/index.js";
import type { Stores } from "#store/ports.js";
import type { BacktestSettings, BacktestSymbol } from "./engine.js";

/** Where the replay runs: the stores and the venue, on the replay's clock (the queues are in process). */
export interface StepReplayPorts {
  stores: Stores;
  exchange: Exchange;
  marks: MarkSource;
  settleRestingOrders?: (productIds: readonly string[]) => Promise<void>;
}

export interface StepReplayInput {
  symbols: readonly BacktestSymbol[];
  settings: BacktestSettings;
  /** the signal model the signal step scores with (features on the serving window, as live) */
  model: SignalModel;
  /** rest each position's stop on the paper venue (EXIT_RESTING_STOP) */
  restingStops: boolean;
  /** builds the ports on the replay's clock (the paper venue and the queues read it) */
  ports(now: () => Date): StepReplayPorts | Promise<StepReplayPorts>;
  log?: Log;
}

/** One order as the venue filled it. */
export interface StepOrder {
  recommendationId: string;
  /** the exit's label (TAKE_PROFIT_1, STOP_LOSS, ...); undefined for an entry */
  exit?: string;
  symbol: string;
  side: "BUY" | "SELL";
  /** when it filled: the cycle of a market order; a resting stop's settlement (the fast replay's trade time) */
  time: string;
  /** when the order was placed (a resting stop: the cycle after its entry filled) */
  placedAt: string;
  quoteSize?: string;
  baseSize: number;
  price: number;
  fee: number;
}

export interface StepReplayRun {
  cycleTimes: Float64Array;
  /** equity after each cycle's last portfolio step */
  equity: Float64Array;
  /** filled orders, by fill time then id */
  orders: StepOrder[];
  summary: RunSummary;
  /** messages the chain's queues gave up on (should be none) */
  deadLetters: readonly DeadLetter[];
  elapsedMs: number;
}

/**
 * Fresh in-memory stores and a paper venue on in-memory books with the replay's costs: the spread,
 * slippage, impact and fees of its fill settings, its starting cash and product rules. Order ids are
 * numbered, so two replays of the same window name the same orders.
 */
export function memoryReplayPorts(settings: BacktestSettings, now: () => Date): StepReplayPorts {
  const stores = createMemoryStores();
  const startingCashUsd = decimalTextOf(settings.startingCashUsd);
  const { fill } = settings;
  let orders = 0;
  const exchange = new PaperExchange({
    books: new MemoryPaperBooks(startingCashUsd),
    prices: candlePriceSource(stores.candles, settings.granularity, fill.spreadBps),
    rules: { rulesFor: async (productId) => settings.rulesFor(productId) },
    settings: {
      startingCashUsd,
      slippageBps: fill.slippageBps,
      impactCoefficient: fill.impactCoefficient,
      ...(fill.maxImpactBps !== undefined ? { maxImpactBps: fill.maxImpactBps } : {}),
      takerFeeBps: fill.takerFeeBps,
      makerFeeBps: fill.makerFeeBps ?? DEFAULT_PAPER_ACCOUNT.makerFeeBps,
    },
    now,
    newId: () => `replay-order-${++orders}`,
  });
  return {
    stores,
    exchange,
    marks: candleMarks(stores.candles, settings.granularity, exchange),
    settleRestingOrders: async (productIds) => {
      for (const id of productIds) await exchange.settleRestingOrders(id);
    },
  };
}

/** An LLM that approves every recommendation at once: the replay applies no LLM veto. */
export const APPROVE_EVERYTHING: VerdictSource = {
  async ask(_prompt: ValidationPrompt): Promise<VerdictAnswer> {
    const verdict = {
      decision: "APPROVE" as const,
      confidence: 1,
      reasoning: "replay: no LLM veto is applied",
      risk_assessment: { level: "LOW" as const, factors: [] },
    };
    return { verdict, rawAnswer: JSON.stringify(verdict), latencyMs: 0, model: "replay-approves-all" };
  },
};

/** The replay's candles as the market-data step's source, as ReplayCandleSource serves files. */
export function arrayCandleSource(symbols: readonly BacktestSymbol[]): CandleSource {
  const byProduct = new Map(symbols.map((s) => [s.productId, s]));
  return {
    async getCandles(productId: string, granularity: Granularity, startSec: number, endSec: number) {
      const s = byProduct.get(productId);
      if (!s) throw new Error(`the replay has no candles of ${productId}`);
      return columnCandlesBetween(s, productId, granularity, startSec, endSec);
    },
  };
}

/**
 * The orders a run filled, read back from its summary: each with its exit label, its fills summed
 * (size, fee; the price size-weighted) and the time of its last fill, by that time then id.
 */
export function filledOrdersOf(summary: Pick<RunSummary, "orders" | "fills" | "exits">): StepOrder[] {
  const exitLabels = new Map(summary.exits.map((e) => [e.exitId, e.reason]));
  const fillsOf = new Map<string, RunSummary["fills"]>();
  for (const f of summary.fills) {
    const of = fillsOf.get(f.clientOrderId);
    if (of) of.push(f);
    else fillsOf.set(f.clientOrderId, [f]);
  }
  const orders: StepOrder[] = [];
  for (const o of summary.orders) {
    const fills = fillsOf.get(o.clientOrderId);
    if (fills === undefined) continue;
    const base = fills.reduce((n, f) => n + Number(f.size), 0);
    const quote = fills.reduce((n, f) => n + Number(f.size) * Number(f.price), 0);
    const exit = exitLabels.get(o.recommendationId);
    orders.push({
      recommendationId: o.recommendationId,
      ...(exit !== undefined ? { exit } : {}),
      symbol: o.symbol,
      side: o.side,
      time: fills[fills.length - 1].tradeTime,
      placedAt: o.createdAt,
      ...(o.quoteSize !== undefined ? { quoteSize: o.quoteSize } : {}),
      baseSize: base,
      price: base > 0 ? quote / base : Number.NaN,
      fee: fills.reduce((n, f) => n + Number(f.commission), 0),
    });
  }
  return orders.sort(
    (a, b) => a.time.localeCompare(b.time) || a.recommendationId.localeCompare(b.recommendationId),
  );
}

/** Runs the live pipeline over every cycle of the settings' window; returns its orders and equity. */
export async function runStepReplay(input: StepReplayInput): Promise<StepReplayRun> {
  const started = performance.now();
  const { settings, symbols } = input;
  const from = new Date(settings.fromSec * 1000);
  const to = new Date(settings.toSec * 1000);
  const clock = replayClock(from);
  const ports = await input.ports(clock.now);
  // the validator answers one after the other, so risk assesses in the bridge's order (most
  // confident first), as the fast replay does; live, in the order the LLM's answers arrive
  const queues = inProcessChainQueues(clock.now, { validationOneAtATime: true });
  const productIds = symbols.map((s) => s.productId);
  const log = input.log ?? silentLog;
  const pipeline = createPipeline(
    { stores: ports.stores, queues },
    {
      source: arrayCandleSource(symbols),
      symbols: productIds,
      granularity: settings.granularity,
      from,
      to,
      model: input.model,
      verdicts: APPROVE_EVERYTHING,
      exchange: ports.exchange,
      ...(ports.settleRestingOrders
        ? { settleRestingOrders: () => ports.settleRestingOrders!(productIds) }
        : {}),
      marks: ports.marks,
      startingCashUsd: settings.startingCashUsd,
      limits: settings.limits,
      thresholds: settings.thresholds,
      bridge: settings.bridge,
      ...(settings.exits ? { exits: settings.exits } : {}),
      restingStops: input.restingStops,
      log,
      handlerLogger: new Logger({ serviceName: "step-replay", logLevel: "SILENT" }),
      clock,
    },
  );
  const reports = await pipeline.run();
  const summary = await summarizeRun(pipeline.stores, from, to);
  const orders = filledOrdersOf(summary);
  return {
    cycleTimes: Float64Array.from(reports, (r) => Date.parse(r.at) / 1000),
    equity: Float64Array.from(reports, (r) => r.equityUsd),
    orders,
    summary,
    deadLetters: queues.deadLetters,
    elapsedMs: performance.now() - started,
  };
}
