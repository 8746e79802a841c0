/**
 * Live parity: the local pipeline (the Lambdas' domain code on the local cloud, approving fake LLM)
 * and the backtester on the same candles and cycles must place the same orders.
 *
 * One thing live does not pin down: the risk manager assesses a cycle's validated recommendations
 * in the order the LLM answers arrive (validation runs concurrently), the backtester in the
 * bridge's order (most confident first). They differ only when a limit binds inside a cycle, e.g.
 * the 10th trade of the day; the first test raises that limit to compare every order exactly, the
 * second keeps the defaults and compares order by order up to the cycle where it binds.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBacktest } from "#backtest/engine.js";
import { listMarketFiles, predictMarket } from "#backtest/predictions.js";
import { DEFAULT_FILL_SETTINGS } from "#backtest/run.js";
import { bundledProductRules } from "#coinbase/product-rules.js";
import { loadConfig } from "#config";
import { createOllamaVerdictClient } from "#llm/index.js";
import { createLocalPipeline } from "#local/pipeline.js";
import { summarizeRun } from "#local/summary.js";
import { DEFAULT_DECISION_THRESHOLDS } from "#model/index.js";
import { DEFAULT_RISK_LIMITS, type RiskLimits } from "#risk/index.js";
import { silentLog } from "#runtime/log.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { DEFAULT_BRIDGE_SETTINGS } from "#steps/signal-bridge.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { APRIL_CANDLES, APRIL_FROM, APRIL_SYMBOLS, APRIL_TO, shippedModel } from "#test/e2e/support.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

interface ComparableOrder {
  recommendationId: string;
  symbol: string;
  side: string;
  time: string;
  quoteSize?: string;
  baseSize: number;
  price: number;
  fee: number;
}

async function liveRun(ollamaHost: string, limits: RiskLimits) {
  const cloud = await isolatedCloud("backtest-parity");
  const stores = createStores(createDocumentClient());
  const venue = await createVenue(loadConfig({ TRADING_MODE: "paper" }), {
    db: createDocumentClient(),
    portfolioTable: cloud.tables.portfolio,
    candles: stores.candles,
    granularity: "ONE_HOUR",
    rules: bundledRules(),
  });
  const pipeline = createLocalPipeline(cloud, {
    candlesDir: APRIL_CANDLES,
    symbols: APRIL_SYMBOLS,
    from: APRIL_FROM,
    to: APRIL_TO,
    model: await shippedModel(),
    verdicts: createOllamaVerdictClient({ host: ollamaHost, model: "phi3:3.8b", timeoutMs: 5_000 }),
    exchange: venue.exchange,
    settleRestingOrders: () => venue.settleRestingOrders!(APRIL_SYMBOLS),
    marks: venue.marks,
    startingCashUsd: 10_000,
    limits,
    log: silentLog,
    handlerLogger: new Logger({ serviceName: "parity", logLevel: "SILENT" }),
  });
  const cycles = await pipeline.run();
  const summary = await summarizeRun(pipeline.stores, APRIL_FROM, APRIL_TO);
  const orders: ComparableOrder[] = summary.orders.map((o) => {
    const fill = summary.fills.find((f) => f.clientOrderId === o.clientOrderId);
    return {
      recommendationId: o.recommendationId,
      symbol: o.symbol,
      side: o.side,
      time: o.createdAt,
      ...(o.quoteSize !== undefined ? { quoteSize: o.quoteSize } : {}),
      baseSize: Number(fill?.size),
      price: Number(fill?.price),
      fee: Number(fill?.commission),
    };
  });
  return { orders: sorted(orders), equity: cycles.map((c) => c.equityUsd) };
}

async function backtestRun(limits: RiskLimits) {
  const model = await shippedModel();
  const symbols = await predictMarket(model, listMarketFiles(APRIL_CANDLES, "ONE_HOUR", APRIL_SYMBOLS));
  const run = await runBacktest(symbols, {
    granularity: "ONE_HOUR",
    intervalSeconds: 3600,
    fromSec: APRIL_FROM.getTime() / 1000,
    toSec: APRIL_TO.getTime() / 1000,
    startingCashUsd: 10_000,
    thresholds: DEFAULT_DECISION_THRESHOLDS,
    bridge: DEFAULT_BRIDGE_SETTINGS,
    limits,
    fill: DEFAULT_FILL_SETTINGS,
    modelVersion: model.version,
    rulesFor: bundledProductRules,
  });
  return { run, orders: sorted(run.trades.map((t) => ({ ...t }))) };
}

function sorted<T extends { time: string; recommendationId: string }>(orders: T[]): T[] {
  return orders.sort(
    (a, b) => a.time.localeCompare(b.time) || a.recommendationId.localeCompare(b.recommendationId),
  );
}

function expectSameOrders(backtest: readonly ComparableOrder[], live: readonly ComparableOrder[]): void {
  expect(backtest.map((t) => [t.recommendationId, t.symbol, t.side, t.time, t.quoteSize])).toEqual(
    live.map((o) => [o.recommendationId, o.symbol, o.side, o.time, o.quoteSize]),
  );
  for (const [i, t] of backtest.entries()) {
    const o = live[i];
    expect(near(t.baseSize, o.baseSize), `${o.recommendationId} base ${t.baseSize} vs ${o.baseSize}`).toBe(
      true,
    );
    expect(near(t.price, o.price), `${o.recommendationId} price ${t.price} vs ${o.price}`).toBe(true);
    expect(near(t.fee, o.fee), `${o.recommendationId} fee ${t.fee} vs ${o.fee}`).toBe(true);
  }
}

describe("live parity: the backtester places the orders the local pipeline places (approving LLM)", () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
  });
  afterAll(async () => {
    await ollama.close();
  });

  it("every order and every cycle's equity, with room for every trade of the day", async () => {
    const limits = { ...DEFAULT_RISK_LIMITS, maxTradesPerDay: 100 };
    const live = await liveRun(ollama.host, limits);
    const { run, orders } = await backtestRun(limits);
    expect(live.orders.length).toBeGreaterThan(10);
    expectSameOrders(orders, live.orders);
    expect(run.equity.length).toBe(live.equity.length);
    for (const [i, e] of live.equity.entries())
      expect(near(run.equity[i], e), `cycle ${i}: ${run.equity[i]} vs ${e}`).toBe(true);
  });

  it("with the default limits: the same orders up to the cycle where the 10-trades-a-day limit binds, then as many", async () => {
    const live = await liveRun(ollama.host, DEFAULT_RISK_LIMITS);
    const { run, orders } = await backtestRun(DEFAULT_RISK_LIMITS);
    expect(run.counts.refusedByRisk.DAILY_TRADE_LIMIT).toBeGreaterThan(0);
    expect(orders.length).toBe(live.orders.length);
    const binding = orders[DEFAULT_RISK_LIMITS.maxTradesPerDay - 1].time;
    expectSameOrders(
      orders.filter((o) => o.time < binding),
      live.orders.filter((o) => o.time < binding),
    );
    const perCycle = (list: readonly ComparableOrder[]) => list.map((o) => o.time);
    expect(perCycle(orders)).toEqual(perCycle(live.orders));
  });
});
