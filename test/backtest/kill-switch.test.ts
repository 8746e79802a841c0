import { describe, expect, it } from "vitest";
import { type BacktestSymbol, runBacktest } from "#backtest/engine.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { cycleOf, market, settings } from "./scenarios.js";

/** A small account whose $100 trades are two thirds of it: one gap through a stop trips the switch. */
const smallAccount = (overrides: Parameters<typeof settings>[0] = {}) =>
  settings({
    startingCashUsd: 150,
    limits: {
      ...DEFAULT_RISK_LIMITS,
      maxAssetFraction: 1,
      maxTotalExposure: 1,
      maxRiskPerTrade: 1,
      kellyFraction: 1,
    },
    ...overrides,
  });

/** Flat at 100; at `gapRow` the candle opens (and closes) at `gapTo`: a gap through the 1% stop. */
const gapping = (gapRow: number, gapTo: number, signals: Record<number, "BUY" | "SELL">): BacktestSymbol =>
  market(
    (i) => (i < gapRow ? 100 : gapTo),
    signals,
    1e12,
    (i) => (i === gapRow ? { open: gapTo } : undefined),
  );

const hours = (iso: string) => Date.parse(iso) / 3_600_000;

describe("backtest kill switch (as live: reconcile-portfolio's killSwitchTrip)", () => {
  it("a daily-loss trip pauses new entries until the next UTC midnight, then lifts itself", async () => {
    // bought at 600 (2024-01-26 01:01), a 10% gap at 601 sells at the open: about -7% of 150 on the day
    const run = await runBacktest([gapping(601, 90, { 600: "BUY", 605: "BUY", 630: "BUY" })], smallAccount());
    expect(run.trades.map((t) => [t.side, t.time, t.exit])).toEqual([
      ["BUY", cycleOf(600), undefined],
      ["SELL", cycleOf(601), "STOP_LOSS"],
      // 605's signal meets the pause (the bridge holds it back, it expires); 630 is the next day
      ["BUY", cycleOf(630), undefined],
      ["SELL", cycleOf(642), "TIME_LIMIT"],
    ]);
    expect(run.trades[1].price).toBeLessThan(90); // the gap: sold at the open, under the stop
    expect(run.killSwitchTrips).toEqual([
      {
        at: cycleOf(601),
        kind: "DAILY_LOSS",
        reason: expect.stringMatching(/daily loss/),
        resumedAt: "2024-01-27T00:01:00.000Z",
      },
    ]);
    expect(run.killSwitch).toBeUndefined();
  });

  it("with KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY=false the same trip waits for an operator", async () => {
    const run = await runBacktest(
      [gapping(601, 90, { 600: "BUY", 630: "BUY" })],
      smallAccount({ dailyLossResumesNextDay: false }),
    );
    expect(run.trades.map((t) => t.side)).toEqual(["BUY", "SELL"]);
    expect(run.killSwitch).toMatchObject({ kind: "DAILY_LOSS" });
  });

  it("a drawdown trip halts entries until an operator resumes; a resume while the drawdown lasts trips again", async () => {
    const signals = { 600: "BUY", 630: "BUY", 700: "BUY" } as const;
    const halted = await runBacktest([gapping(601, 70, signals)], smallAccount());
    expect(halted.trades.map((t) => t.side)).toEqual(["BUY", "SELL"]);
    expect(halted.killSwitch).toMatchObject({ kind: "DRAWDOWN", reason: expect.stringMatching(/drawdown/) });
    expect(halted.killSwitchTrips).toHaveLength(1);

    // an operator resuming 48 h later: flat in cash the drawdown cannot recover, so it trips again
    const resumed = await runBacktest(
      [gapping(601, 70, signals)],
      smallAccount({ killSwitchResumeAfterHours: 48 }),
    );
    const [first, second] = resumed.killSwitchTrips;
    expect(hours(first!.resumedAt!) - hours(first!.at)).toBeGreaterThanOrEqual(48);
    expect(second).toMatchObject({ kind: "DRAWDOWN" });
    expect(hours(second!.at) - hours(first!.resumedAt!)).toBe(1);
    expect(resumed.trades.filter((t) => t.side === "BUY").map((t) => t.time)).toEqual([cycleOf(600)]);
  });

  it("a drawdown trip closes every position at once (KILL_SWITCH), so the limit holds", async () => {
    // BTC gaps 30% through its stop; ETH, held beside it, is sold by the trip in the same cycle
    const btc = gapping(605, 40, { 600: "BUY" });
    const eth = { ...market(() => 100, { 600: "BUY" }), productId: "ETH-USD" };
    const run = await runBacktest([btc, eth], smallAccount({ startingCashUsd: 300 }));
    expect(run.killSwitchTrips).toEqual([expect.objectContaining({ at: cycleOf(605), kind: "DRAWDOWN" })]);
    expect(run.trades.filter((t) => t.side === "SELL").map((t) => [t.symbol, t.time, t.exit])).toEqual([
      ["BTC-USD", cycleOf(605), "STOP_LOSS"],
      ["ETH-USD", cycleOf(605), "KILL_SWITCH"],
    ]);
    expect(run.openManagedPositions).toBe(0);
  });

  it("a daily-loss trip closes the positions only with KILL_SWITCH_FLATTEN", async () => {
    const btc = gapping(605, 90, { 600: "BUY" });
    const eth = { ...market(() => 100, { 600: "BUY" }), productId: "ETH-USD" };
    const kept = await runBacktest([btc, eth], smallAccount({ startingCashUsd: 200 }));
    expect(kept.killSwitchTrips[0]).toMatchObject({ kind: "DAILY_LOSS" });
    // ETH is kept by the pause and leaves by its own rule (the time limit), never blocked
    expect(kept.trades.filter((t) => t.symbol === "ETH-USD").map((t) => t.exit)).toEqual([
      undefined,
      "TIME_LIMIT",
    ]);

    const flat = await runBacktest(
      [btc, eth],
      smallAccount({ startingCashUsd: 200, exits: { ...DEFAULT_EXITS, flattenOnKillSwitch: true } }),
    );
    expect(flat.trades.filter((t) => t.symbol === "ETH-USD").map((t) => [t.time, t.exit])).toEqual([
      [cycleOf(600), undefined],
      [cycleOf(605), "KILL_SWITCH"],
    ]);
  });

  it("no trip blocks an exit: a stop during a daily-loss pause still sells", async () => {
    // BTC's gap pauses entries; ETH's own stop fires five hours later, the same UTC day
    const btc = gapping(605, 90, { 600: "BUY" });
    const eth = { ...market((i) => (i < 610 ? 100 : 95), { 600: "BUY" }), productId: "ETH-USD" };
    const run = await runBacktest([btc, eth], smallAccount({ startingCashUsd: 200 }));
    expect(run.killSwitchTrips[0]).toMatchObject({ at: cycleOf(605), kind: "DAILY_LOSS" });
    expect(run.trades.filter((t) => t.symbol === "ETH-USD").map((t) => [t.time, t.exit])).toEqual([
      [cycleOf(600), undefined],
      [cycleOf(610), "STOP_LOSS"],
    ]);
  });
});
