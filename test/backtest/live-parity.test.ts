/**
 * Live parity: the local pipeline (the Lambdas' domain code on the local cloud, approving fake LLM)
 * and the backtester on the same candles and cycles must place the same orders, entries and exits:
 * every order's recommendation (an exit's names its position, reason, leg and attempt), exit label,
 * time, base size, price and fee, and every cycle's equity, to 1e-9.
 *
 * One thing live does not pin down: the risk manager assesses a cycle's validated recommendations
 * in the order the LLM answers arrive (validation runs concurrently), the backtester in the
 * bridge's order (most confident first). They differ only when a limit binds inside a cycle, e.g.
 * the 10th trade of the day or the drawdown budget; the exit tests raise the trade limit to compare
 * every order exactly, the last test keeps the defaults and compares order by order up to the cycle
 * where it binds.
 *
 * Exits: the default settings exit nothing in the six April cycles (R is ~14% there, the time limit
 * 12 candles), so the exit tests run to the fixture's last candle (cycle 18:01) with a short ladder,
 * a 4-candle time limit and a 0.3 SELL threshold: TAKE_PROFIT_1/2, TIME_LIMIT, SIGNAL and, with a
 * 0.08% daily-loss limit, KILL_SWITCH.
 *
 * Stops and trails (STOPPING: RISK_STOP_VOL_MULTIPLE 0.3, a trail from 0.2R at 0.5R),
 * both with EXIT_RESTING_STOP on and off, the same setting on each side:
 * - on, the position manager rests a STOP_LIMIT SELL when the entry fills, replaces it once the
 *   trail rose 0.5R above it, and cancels it before any other sell; the paper venue fills it on the
 *   newest candle's low before the manager looks at the bid. Every stop of this window fills that
 *   way (exit-<position>-RESTING_STOP-<n>), some after a replacement.
 * - off, the manager sees the cycle's bid only and sells at market under the exit's own id.
 * Live orders are compared by the time they filled (a resting stop fills cycles after it was
 * placed); cancelled resting stops, which sold nothing, are counted, not compared. The paper venue
 * runs on the replay's clock, as under npm start, so a stop placed in a cycle sees the candles
 * that close after it.
 *
 * The portfolio step snapshots (and may trip the kill switch) before the position manager's run and
 * after its exits, in both; `--check-steps` (step-parity-shared.test.ts) holds a flattening kill
 * switch to the live steps over weeks of the shared candles.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBacktest } from "#backtest/engine.js";
import { type ComparableOrder, firstOrderDifference, withinTolerance } from "#backtest/step-check.js";
import { filledOrdersOf } from "#backtest/step-replay.js";
import { loadConfig } from "#config";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { createOllamaVerdictClient } from "#llm/index.js";
import { createLocalPipeline } from "#local/pipeline.js";
import { replayClock } from "#local/replay-clock.js";
import { summarizeRun } from "#local/summary.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { silentLog } from "#runtime/log.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { APRIL_CANDLES, APRIL_FROM, APRIL_SYMBOLS, APRIL_TO, shippedModel } from "#test/e2e/support.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { aprilFrame, EXITING, type Scenario } from "./april-parity.js";

const near = withinTolerance;

async function liveRun(ollamaHost: string, scenario: Scenario) {
  const { limits } = scenario;
  const to = scenario.to ?? APRIL_TO;
  const cloud = await isolatedCloud("backtest-parity");
  const stores = createStores(createDocumentClient());
  // as npm start: the paper venue stamps orders and fills with the replay's time, so a resting stop
  // placed in a cycle sees the candles that close after it
  const clock = replayClock(APRIL_FROM);
  const venue = await createVenue(loadConfig({ TRADING_MODE: "paper" }), {
    db: createDocumentClient(),
    portfolioTable: cloud.tables.portfolio,
    candles: stores.candles,
    granularity: "ONE_HOUR",
    rules: bundledRules(),
    now: clock.now,
  });
  const pipeline = createLocalPipeline(cloud, {
    candlesDir: APRIL_CANDLES,
    symbols: APRIL_SYMBOLS,
    from: APRIL_FROM,
    to,
    model: await shippedModel(),
    verdicts: createOllamaVerdictClient({ host: ollamaHost, model: "phi3:3.8b", timeoutMs: 5_000 }),
    exchange: venue.exchange,
    settleRestingOrders: () => venue.settleRestingOrders!(APRIL_SYMBOLS),
    marks: venue.marks,
    startingCashUsd: 10_000,
    limits,
    ...(scenario.exits ? { exits: scenario.exits } : {}),
    ...(scenario.thresholds ? { thresholds: scenario.thresholds } : {}),
    restingStops: scenario.restingStops ?? false,
    clock,
    log: silentLog,
    handlerLogger: new Logger({ serviceName: "parity", logLevel: "SILENT" }),
  });
  const cycles = await pipeline.run();
  const summary = await summarizeRun(pipeline.stores, APRIL_FROM, to);
  // the orders that traded (a resting stop cancelled before another sell, or refused, sold nothing),
  // by fill time: a resting stop is placed cycles before the candle that fills it
  const orders = filledOrdersOf(summary);
  const cancelledRestingStops = summary.orders.filter(
    (o) => o.status === "CANCELLED" && /-RESTING_STOP-\d+$/.test(o.recommendationId),
  ).length;
  return { orders, equity: cycles.map((c) => c.equityUsd), summary, cancelledRestingStops };
}

async function backtestRun(scenario: Scenario) {
  const { symbols, settings } = await aprilFrame(scenario);
  const run = await runBacktest(symbols, settings);
  return { run, orders: sorted(run.trades.map((t) => ({ ...t }))) };
}

function sorted<T extends { time: string; recommendationId: string }>(orders: T[]): T[] {
  return orders.sort(
    (a, b) => a.time.localeCompare(b.time) || a.recommendationId.localeCompare(b.recommendationId),
  );
}

function expectSameOrders(backtest: readonly ComparableOrder[], live: readonly ComparableOrder[]): void {
  expect(firstOrderDifference(backtest, live)).toBeUndefined();
}

/**
 * Stops and trails on the April fixture: R at 0.3 of the volatility stop (RISK_STOP_VOL_MULTIPLE
 * 0.3, ~2% of the price), the trail from 0.2R at 0.5R under the high, one far target and a 6-candle
 * time limit, to the fixture's last candle. The trail moves in steps smaller than 0.5R here, so the
 * resting stop lags it: a backtest that raised the stop at every step of the trail fails this test.
 */
const STOPPING: Scenario = {
  limits: { ...DEFAULT_RISK_LIMITS, maxTradesPerDay: 100, stopVolMultiple: 0.3 },
  exits: {
    ...DEFAULT_EXITS,
    takeProfitLadder: [{ atR: 5, share: 1 }],
    trailing: { activationR: 0.2, distanceR: 0.5 },
    timeLimitCandles: 6,
  },
  to: new Date("2024-04-14T18:30:00Z"),
};

describe("live parity: the backtester places the orders the local pipeline places (approving LLM)", () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
  });
  afterAll(async () => {
    await ollama.close();
  });

  async function expectParity(scenario: Scenario) {
    const live = await liveRun(ollama.host, scenario);
    const { run, orders } = await backtestRun(scenario);
    expectSameOrders(orders, live.orders);
    expect(run.equity.length).toBe(live.equity.length);
    for (const [i, e] of live.equity.entries())
      expect(near(run.equity[i], e), `cycle ${i}: ${run.equity[i]} vs ${e}`).toBe(true);
    return { live, run, orders };
  }
  const labels = (orders: readonly ComparableOrder[]) => orders.filter((o) => o.exit).map((o) => o.exit!);

  it("every order and every cycle's equity with the default exit settings, with room for every trade of the day", async () => {
    const { orders } = await expectParity({ limits: { ...DEFAULT_RISK_LIMITS, maxTradesPerDay: 100 } });
    expect(orders.length).toBeGreaterThan(10);
  });

  it("every order, exits included, and every cycle's equity: targets, time limit, SELL signal", async () => {
    const { live, run, orders } = await expectParity(EXITING);
    expect(orders.filter((o) => o.side === "BUY").length).toBeGreaterThan(10);
    // every exit the policy decides at the bid happened here, some more than once
    expect(new Set(labels(orders))).toEqual(
      new Set(["TAKE_PROFIT_1", "TAKE_PROFIT_2", "TIME_LIMIT", "SIGNAL"]),
    );
    expect(labels(orders).length).toBeGreaterThan(20);
    // a leg the base grid floored leaves 1e-8 BCH, which the next evaluation sells as a second attempt
    expect(orders.some((o) => /-TIME_LIMIT-2$/.test(o.recommendationId))).toBe(true);
    // both books agree on each closed position's realised P&L
    for (const p of live.summary.managedPositions.filter((m) => m.status === "CLOSED")) {
      const closed = run.closedPositions.find((c) => c.positionId === p.positionId);
      expect(closed, p.positionId).toBeDefined();
      expect(near(closed!.pnlUsd, p.realizedPnlUsd), `${p.positionId} P&L`).toBe(true);
    }
  });

  it("the kill switch: a daily-loss trip sells every position in its cycle with KILL_SWITCH_FLATTEN, and none without", async () => {
    const limits = { ...EXITING.limits, maxDailyLoss: 0.0008 };
    const flat = await expectParity({
      ...EXITING,
      limits,
      exits: { ...EXITING.exits!, flattenOnKillSwitch: true },
    });
    expect(flat.run.killSwitchTrips).toEqual([expect.objectContaining({ kind: "DAILY_LOSS" })]);
    const at = flat.run.killSwitchTrips[0]!.at;
    const flattened = flat.orders.filter((o) => o.exit === "KILL_SWITCH");
    expect(flattened.length).toBeGreaterThan(3);
    expect(new Set(flattened.map((o) => o.time))).toEqual(new Set([at]));

    const kept = await expectParity({
      ...EXITING,
      limits,
      exits: { ...EXITING.exits!, flattenOnKillSwitch: false },
    });
    expect(kept.run.killSwitchTrips).toEqual([expect.objectContaining({ at, kind: "DAILY_LOSS" })]);
    expect(labels(kept.orders)).not.toContain("KILL_SWITCH");
    // the pause blocks no exit: the positions leave by their own rules after the trip
    expect(kept.orders.filter((o) => o.exit && o.time > at).length).toBeGreaterThan(3);
  });

  it.each([true, false])(
    "stops and trails, every order and every cycle's equity, with the resting stop %s",
    async (restingStops) => {
      const { live, run, orders } = await expectParity({ ...STOPPING, restingStops });
      const stops = orders.filter((o) => o.exit === "STOP_LOSS");
      const trails = orders.filter((o) => o.exit === "TRAILING_STOP");
      expect(stops.length).toBeGreaterThan(0);
      expect(trails.length).toBeGreaterThan(0);
      const resting = orders.filter((o) => /-RESTING_STOP-\d+$/.test(o.recommendationId));
      if (restingStops) {
        // every stop here filled on the venue, some after the trail had the stop replaced (placement 2, 3)
        expect(resting.length).toBe(stops.length + trails.length);
        expect(resting.some((o) => !o.recommendationId.endsWith("-RESTING_STOP-1"))).toBe(true);
        expect(live.cancelledRestingStops).toBeGreaterThan(0);
      } else expect(resting).toEqual([]);
      expect(run.closedPositions.length).toBeGreaterThan(0);
      for (const p of live.summary.managedPositions.filter((m) => m.status === "CLOSED")) {
        const closed = run.closedPositions.find((c) => c.positionId === p.positionId);
        expect(closed, p.positionId).toBeDefined();
        expect(near(closed!.pnlUsd, p.realizedPnlUsd), `${p.positionId} P&L`).toBe(true);
      }
    },
  );

  it("with the default limits: the same orders up to the cycle where the 10-trades-a-day limit binds, then as many", async () => {
    const live = await liveRun(ollama.host, { limits: DEFAULT_RISK_LIMITS });
    const { run, orders } = await backtestRun({ limits: DEFAULT_RISK_LIMITS });
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
