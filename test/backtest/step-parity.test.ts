/**
 * The fast replay (backtest/engine.ts) against the step-driven replay (backtest/step-replay.ts: the
 * live pipeline's own steps on in-process queues and the paper venue): the same orders, entries and
 * exits, each with its id, exit label, time, size, price and fee to 1e-9, and the same equity after
 * every cycle. The step replay assesses risk in the bridge's order (one LLM answer after the other),
 * so unlike the live-parity test every order of every cycle compares, limits binding or not.
 * Here the steps run on the local cloud's DynamoDB tables; `--check-steps` and
 * step-parity-shared.test.ts (weeks of the shared candles) run them on the in-memory stores.
 */
import { describe, expect, it } from "vitest";
import { runBacktest } from "#backtest/engine.js";
import { checkAgainstSteps, firstOrderDifference } from "#backtest/step-check.js";
import { runStepReplay } from "#backtest/step-replay.js";
import { loadConfig } from "#config";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { aprilFrame, EXITING, type Scenario } from "./april-parity.js";

/** The step replay on the local cloud's tables (DynamoDB protocol). */
async function dynamoPorts(now: () => Date) {
  await isolatedCloud("step-parity");
  const stores = createStores(createDocumentClient());
  const venue = await createVenue(loadConfig({ TRADING_MODE: "paper" }), {
    db: createDocumentClient(),
    portfolioTable: process.env.PORTFOLIO_TABLE!,
    candles: stores.candles,
    granularity: "ONE_HOUR",
    rules: bundledRules(),
    now,
  });
  return { stores, ...venue };
}

async function expectParity(scenario: Scenario) {
  const { model, symbols, settings } = await aprilFrame(scenario);
  const fast = await runBacktest(symbols, settings);
  const steps = await runStepReplay({
    symbols,
    settings,
    model,
    restingStops: settings.restingStops ?? false,
    ports: dynamoPorts,
  });
  const check = checkAgainstSteps(fast, steps);
  expect(check.firstDifference).toBeUndefined();
  expect(check.orders).toBe(fast.trades.length);
  expect(check.cycles).toBe(fast.equity.length);
  return { fast, steps };
}

describe("step parity: the fast replay places the orders the live steps place on the paper venue", () => {
  it("with the default limits, the daily trade limit binding inside a cycle", async () => {
    const { fast } = await expectParity({ limits: DEFAULT_RISK_LIMITS });
    expect(fast.counts.refusedByRisk.DAILY_TRADE_LIMIT).toBeGreaterThan(0);
    expect(fast.trades.length).toBeGreaterThan(5);
  });

  it("exits: targets, time limit and SELL signal", async () => {
    const { fast } = await expectParity(EXITING);
    const labels = new Set(fast.trades.filter((t) => t.exit).map((t) => t.exit));
    expect(labels).toEqual(new Set(["TAKE_PROFIT_1", "TAKE_PROFIT_2", "TIME_LIMIT", "SIGNAL"]));
  });

  it("the check sees a difference: one fee, one order more, another exit label", async () => {
    const { fast, steps } = await expectParity(EXITING);
    const trades = fast.trades.map((t) => ({ ...t }));
    trades[3].fee *= 1 + 1e-6;
    expect(firstOrderDifference(trades, steps.orders)).toMatch(/^order \d+: .* fee /);
    expect(firstOrderDifference(fast.trades.slice(1), steps.orders)).toMatch(/^order 1:/);
    const relabelled = fast.trades.map((t) => (t.exit === "TIME_LIMIT" ? { ...t, exit: "SIGNAL" } : t));
    expect(firstOrderDifference(relabelled, steps.orders)).toMatch(/TIME_LIMIT/);
    const equity = Float64Array.from(fast.equity);
    equity[equity.length - 1] += 0.01;
    expect(checkAgainstSteps({ ...fast, equity }, steps).firstDifference).toMatch(
      /^equity after the cycle at /,
    );
  });
});
