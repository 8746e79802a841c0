import { describe, expect, it } from "vitest";
import { runBacktest } from "#backtest/engine.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { cycleOf, market, settings } from "./scenarios.js";

/** A small account that holds mostly BTC: a 25% dip trips the kill switch, the recovery clears the drawdown. */
const closeAt = (i: number) =>
  i <= 600 ? 160 : i <= 640 ? 160 - (i - 600) : i <= 700 ? 120 : i <= 740 ? 120 + (i - 700) : 160;
const smallAccount = (resume?: number) =>
  settings({
    startingCashUsd: 150,
    limits: {
      ...DEFAULT_RISK_LIMITS,
      maxAssetFraction: 1,
      maxTotalExposure: 1,
      maxRiskPerTrade: 1,
      kellyFraction: 1,
    },
    killSwitchResumeAfterHours: resume,
  });

describe("backtest kill switch", () => {
  it("stays on after an automatic trip, as live without an operator: later signals place nothing", async () => {
    const run = await runBacktest([market(closeAt, { 600: "BUY", 800: "BUY" })], smallAccount());
    expect(run.trades.map((t) => t.time)).toEqual([cycleOf(600)]);
    expect(run.killSwitchTrips).toHaveLength(1);
    expect(run.killSwitchTrips[0].reason).toMatch(/drawdown|daily loss/);
    expect(run.killSwitchTrips[0].resumedAt).toBeUndefined();
    expect(run.killSwitch).toEqual(run.killSwitchTrips[0]);
  });

  it("with a replayed operator resuming 24 h after each trip, it trips again while the drawdown lasts and trades after the recovery", async () => {
    const run = await runBacktest([market(closeAt, { 600: "BUY", 800: "BUY" })], smallAccount(24));
    expect(run.trades.map((t) => t.time)).toEqual([cycleOf(600), cycleOf(800)]);
    expect(run.killSwitchTrips.length).toBeGreaterThanOrEqual(1);
    for (const trip of run.killSwitchTrips) {
      expect(Date.parse(trip.resumedAt!) - Date.parse(trip.at)).toBeGreaterThanOrEqual(24 * 3_600_000);
    }
    expect(run.killSwitch).toBeUndefined();
  });
});
