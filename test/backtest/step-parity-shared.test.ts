/**
 * `npm run backtest -- --check-steps` on the shared candles (19 hourly products, out of sample):
 * the fast replay and the live pipeline's own steps (in-memory stores, in-process queues, the paper
 * venue) place the same orders and hold the same equity after every cycle, with the default
 * settings, with settings under which every exit reason happens (the resting stop on and off), and
 * with a daily-loss kill switch that flattens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BacktestResult, backtestCandles } from "#backtest/run.js";
import { resolveSettings } from "#backtest/settings.js";
import { REPO_ROOT, SHARED_CANDLES } from "#test/support/paths.js";

const cacheDir = mkdtempSync(join(tmpdir(), "step-parity-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const FROM = Date.parse("2024-03-01T00:00:00Z") / 1000;
const TO = Date.parse("2024-03-22T00:00:00Z") / 1000;

async function checked(values: Record<string, string>): Promise<BacktestResult> {
  const result = await backtestCandles({
    candlesDir: SHARED_CANDLES,
    fromSec: FROM,
    toSec: TO,
    modelPath: resolve(REPO_ROOT, "models/signal-model.onnx"),
    settings: resolveSettings([{ name: "test", values }]),
    cacheDir,
    checkSteps: true,
  });
  expect(result.stepCheck, "the step replay ran").toBeDefined();
  expect(result.stepCheck!.firstDifference).toBeUndefined();
  expect(result.stepCheck!.orders).toBe(result.trades.length);
  expect(result.stepCheck!.cycles).toBe(result.span.cycles);
  return result;
}

/** More entries, a short ladder, an early and close trail, a short time limit, SELL exits: every reason within three weeks of March 2024. */
const BUSY_EXITS = {
  SIGNAL_BUY_THRESHOLD: "0.4",
  BRIDGE_MIN_CONFIDENCE: "0.4",
  RISK_MAX_TRADES_PER_DAY: "40",
  EXIT_TAKE_PROFIT_LADDER: "0.3:0.5,1:0.5",
  EXIT_TRAILING_ACTIVATION_R: "0.2",
  EXIT_TRAILING_DISTANCE_R: "0.3",
  EXIT_TIME_LIMIT_CANDLES: "8",
  SIGNAL_SELL_THRESHOLD: "0.45",
};

describe("--check-steps on the shared candles, March 2024 (out of sample)", () => {
  it("the default settings: the same orders and equity", async () => {
    const r = await checked({});
    expect(r.trades.length).toBeGreaterThan(5);
  });

  for (const resting of ["true", "false"])
    it(`every exit reason, EXIT_RESTING_STOP=${resting}: the same orders and equity`, async () => {
      const r = await checked({ ...BUSY_EXITS, EXIT_RESTING_STOP: resting });
      const labels = new Set(r.trades.flatMap((t) => (t.exit ? [t.exit] : [])));
      for (const reason of ["STOP_LOSS", "TAKE_PROFIT_1", "TRAILING_STOP", "TIME_LIMIT", "SIGNAL"])
        expect(labels, reason).toContain(reason);
    });

  it("a daily-loss kill switch that flattens, trips and lifts: the same orders and equity", async () => {
    const r = await checked({ ...BUSY_EXITS, RISK_MAX_DAILY_LOSS: "0.005", KILL_SWITCH_FLATTEN: "true" });
    expect(r.killSwitchTrips.length).toBeGreaterThan(1);
    expect(r.trades.filter((t) => t.exit === "KILL_SWITCH").length).toBeGreaterThan(10);
  });
});
