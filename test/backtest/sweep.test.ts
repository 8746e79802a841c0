import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { BacktestSymbol } from "#backtest/engine.js";
import { formatSweep, idleRowNotes, rankBy, runSweep, type SweepResult } from "#backtest/sweep.js";
import {
  configurationAt,
  configurationLabel,
  longestTimeLimitCandles,
  MAX_CONFIGURATIONS,
  parseGrid,
} from "#backtest/sweep-grid.js";
import { metricOf, type RunSummary, runConfiguration, type SweepMarket } from "#backtest/sweep-job.js";
import { shareSymbols } from "#backtest/sweep-pool.js";
import {
  SWEEP_KEYS,
  SweepError,
  sweepSettingsFor,
  sweepSettingsFromEnvironment,
} from "#backtest/sweep-settings.js";
import {
  type CardPeriods,
  cardPeriodsOf,
  checkWindowHasCandles,
  walkForwardWindows,
} from "#backtest/sweep-windows.js";
import { DEFAULT_BRIDGE_SETTINGS, DEFAULT_DECISION_THRESHOLDS } from "#defaults";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { ModelCardSchema } from "#model/index.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { REPO_ROOT } from "#test/support/paths.js";
import { HOUR, market, ROWS, T0 } from "./scenarios.js";

const iso = (s: string) => Date.parse(s) / 1000;
const card = ModelCardSchema.parse(
  JSON.parse(readFileSync(`${REPO_ROOT}/models/signal-model.card.json`, "utf8")),
);
const shippedCard = cardPeriodsOf(card);

describe("sweep grid: keys are the environment variables, values checked as the config checks them", () => {
  it("is the cartesian product, last key fastest, over the base settings", () => {
    const grid = parseGrid(
      {
        EXIT_TIME_LIMIT_CANDLES: [6, 12, 24],
        EXIT_TAKE_PROFIT_LADDER: ["1:0.5,2:0.5", "1:1"],
        KILL_SWITCH_FLATTEN: [false, true],
      },
      "grid.json",
      { RISK_MAX_DRAWDOWN: "0.2" },
    );
    expect(grid.count).toBe(12);
    expect(configurationAt(grid, 0)).toEqual({
      RISK_MAX_DRAWDOWN: "0.2",
      EXIT_TIME_LIMIT_CANDLES: 6,
      EXIT_TAKE_PROFIT_LADDER: "1:0.5,2:0.5",
      KILL_SWITCH_FLATTEN: false,
    });
    expect(configurationLabel(grid, 1)).toBe(
      "EXIT_TIME_LIMIT_CANDLES=6 EXIT_TAKE_PROFIT_LADDER=1:0.5,2:0.5 KILL_SWITCH_FLATTEN=true",
    );
    expect(configurationLabel(grid, 11)).toBe(
      "EXIT_TIME_LIMIT_CANDLES=24 EXIT_TAKE_PROFIT_LADDER=1:1 KILL_SWITCH_FLATTEN=true",
    );
    const all = Array.from({ length: grid.count }, (_, i) => configurationLabel(grid, i));
    expect(new Set(all).size).toBe(12);
    expect(longestTimeLimitCandles(grid)).toBe(24);
    expect(() => configurationAt(grid, 12)).toThrow(RangeError);
  });

  it("maps each variable onto the replay's settings; the rest keep the live defaults", () => {
    expect(sweepSettingsFor({})).toMatchObject({
      thresholds: DEFAULT_DECISION_THRESHOLDS,
      bridge: DEFAULT_BRIDGE_SETTINGS,
      limits: DEFAULT_RISK_LIMITS,
      exits: DEFAULT_EXITS,
    });
    const s = sweepSettingsFor({
      SIGNAL_BUY_THRESHOLD: 0.55,
      SIGNAL_SELL_THRESHOLD: "0.7",
      BRIDGE_MIN_CONFIDENCE: 0.65,
      RECOMMENDATION_AMOUNT_USD: 250,
      BRIDGE_MAX_PER_CYCLE: 5,
      RISK_MAX_TRADES_PER_DAY: 20,
      RISK_MAX_DRAWDOWN: 0.1,
      RISK_KELLY_FRACTION: 0.5,
      EXIT_TAKE_PROFIT_LADDER: "1.5:1",
      EXIT_TRAILING_ACTIVATION_R: 0,
      EXIT_TIME_LIMIT_CANDLES: 48,
      EXIT_ON_SELL_SIGNAL: "off",
      KILL_SWITCH_FLATTEN: true,
      KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY: false,
      PAPER_TAKER_FEE_BPS: 40,
    });
    expect(s.thresholds).toEqual({ buy: 0.55, sell: 0.7 });
    expect(s.bridge).toMatchObject({ minConfidence: 0.65, amountUsd: 250, maxPerCycle: 5 });
    expect(s.limits).toMatchObject({ maxTradesPerDay: 20, maxDrawdown: 0.1, kellyFraction: 0.5 });
    expect(s.exits).toEqual({
      takeProfitLadder: [{ atR: 1.5, share: 1 }],
      trailing: undefined,
      timeLimitCandles: 48,
      exitOnSellSignal: false,
      flattenOnKillSwitch: true,
      stopLimitOffset: 0.05,
    });
    expect(s.dailyLossResumesNextDay).toBe(false);
    expect(s.fill.takerFeeBps).toBe(40);
    expect(
      sweepSettingsFor({ EXIT_TRAILING_ACTIVATION_R: 2, EXIT_TRAILING_DISTANCE_R: 0.5 }).exits.trailing,
    ).toEqual({ activationR: 2, distanceR: 0.5 });
  });

  it("refuses unknown keys, listing the known ones", () => {
    const run = () =>
      parseGrid({ EXIT_TIME_LIMIT_CANDLES: [12], STOP_LOSS_PCT: [1], RISK_MAX_DRAWDOWN: [0.1] });
    expect(run).toThrow(SweepError);
    expect(run).toThrow(/unknown setting STOP_LOSS_PCT; a sweep varies these/);
    for (const key of [
      "EXIT_TAKE_PROFIT_LADDER",
      "SIGNAL_BUY_THRESHOLD",
      "RISK_MAX_DRAWDOWN",
      "KILL_SWITCH_FLATTEN",
    ])
      expect(run).toThrow(new RegExp(key));
    expect(SWEEP_KEYS).toContain("BRIDGE_MAX_PER_CYCLE");
  });

  it("refuses bad values with the config's own messages, every problem at once", () => {
    const bad = () =>
      parseGrid({
        SIGNAL_BUY_THRESHOLD: [0.5, 1.5],
        RISK_MAX_DRAWDOWN: [1],
        RISK_MAX_TRADES_PER_DAY: ["ten"],
        EXIT_TIME_LIMIT_CANDLES: [1.5],
        EXIT_TAKE_PROFIT_LADDER: ["1:0.7,2:0.7"],
        EXIT_ON_SELL_SIGNAL: ["maybe"],
      });
    expect(bad).toThrow(
      "SIGNAL_BUY_THRESHOLD[1]=1.5: expected a fraction above 0 and at most 1, such as 0.05 for 5% (default 0.5)",
    );
    expect(bad).toThrow(
      "RISK_MAX_DRAWDOWN[0]=1: expected a fraction above 0 and below 1, such as 0.15 for 15% (default 0.15)",
    );
    expect(bad).toThrow(
      'RISK_MAX_TRADES_PER_DAY[0]="ten": expected a whole number from 0 to 10000 (default 10)',
    );
    expect(bad).toThrow(
      "EXIT_TIME_LIMIT_CANDLES[0]=1.5: expected a whole number of candles >= 0 (0 = no time limit)",
    );
    expect(bad).toThrow(/EXIT_TAKE_PROFIT_LADDER\[0\]="1:0.7,2:0.7": the shares add up to 1.4/);
    expect(bad).toThrow('EXIT_ON_SELL_SIGNAL[0]="maybe": expected true or false');
  });

  it("refuses a grid that is not an object of non-empty arrays, repeats a value, or holds null", () => {
    expect(() => parseGrid([1, 2])).toThrow(/must be a JSON object of setting names to arrays/);
    expect(() => parseGrid({ EXIT_TIME_LIMIT_CANDLES: 12 })).toThrow(
      "EXIT_TIME_LIMIT_CANDLES: expected a non-empty array of values",
    );
    expect(() => parseGrid({ EXIT_TIME_LIMIT_CANDLES: [] })).toThrow(/non-empty array/);
    expect(() => parseGrid({ EXIT_TIME_LIMIT_CANDLES: [12, "12"] })).toThrow(
      'EXIT_TIME_LIMIT_CANDLES[1]="12": listed twice',
    );
    expect(() => parseGrid({ RISK_MAX_DRAWDOWN: [null] })).toThrow(
      "RISK_MAX_DRAWDOWN[0]=null: expected a string, a number or true/false",
    );
  });

  it(`says how many configurations and refuses more than ${MAX_CONFIGURATIONS.toLocaleString("en-US")}`, () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expect(
      parseGrid({ EXIT_TIME_LIMIT_CANDLES: values(100), RISK_MAX_TRADES_PER_DAY: values(100) }).count,
    ).toBe(10_000);
    expect(() =>
      parseGrid({
        EXIT_TIME_LIMIT_CANDLES: values(100),
        RISK_MAX_TRADES_PER_DAY: values(100),
        BRIDGE_MAX_PER_CYCLE: [1, 2],
      }),
    ).toThrow("grid.json makes 20,000 configurations (100 x 100 x 2), more than the 10,000 a sweep runs");
  });

  it("takes the base from the environment, checked the same way", () => {
    expect(
      sweepSettingsFromEnvironment({ RISK_MAX_DRAWDOWN: "0.2", EXIT_TIME_LIMIT_CANDLES: "", HOME: "/root" }),
    ).toEqual({ RISK_MAX_DRAWDOWN: "0.2" });
    expect(() => sweepSettingsFromEnvironment({ EXIT_TRAILING_DISTANCE_R: "0" })).toThrow(
      'Invalid configuration in the environment: EXIT_TRAILING_DISTANCE_R="0": expected a number of R above 0',
    );
  });
});

describe("walk-forward windows: tune, then a purged score window before the validation period", () => {
  it("defaults to tune 2022-01-01 → 2023-07-01 and score from the end plus the purge to the card's validation start", () => {
    const w = walkForwardWindows({}, shippedCard, 24, HOUR);
    expect(w.tune).toEqual({ fromSec: iso("2022-01-01T00:00:00Z"), toSec: iso("2023-07-01T00:00:00Z") });
    // label horizon 12 candles of 1 h (model card) + the longest time limit, 24 candles
    expect(w.purgeSec).toBe(36 * HOUR);
    expect(w.score).toEqual({ fromSec: iso("2023-07-02T12:00:00Z"), toSec: iso(card.split.validation.from) });
    expect(w.purgeExplanation).toMatch(/label horizon \(12 candles x 1 h.*EXIT_TIME_LIMIT_CANDLES 24 x 1 h/);
  });

  it("refuses a score window that starts inside the purge, saying where it may start", () => {
    expect(() =>
      walkForwardWindows(
        { tuneToSec: iso("2023-07-01T00:00:00Z"), scoreFromSec: iso("2023-07-01T12:00:00Z") },
        shippedCard,
        12,
        HOUR,
      ),
    ).toThrow(
      /at least 24 h after the tune window ends.*is 12 h after.*use --score-from 2023-07-02T00:00Z or later/,
    );
    expect(
      walkForwardWindows(
        { tuneToSec: iso("2023-07-01T00:00:00Z"), scoreFromSec: iso("2023-07-02T00:00:00Z") },
        shippedCard,
        12,
        HOUR,
      ).score.fromSec,
    ).toBe(iso("2023-07-02T00:00:00Z"));
  });

  it("refuses a reversed or an empty window", () => {
    expect(() =>
      walkForwardWindows(
        { tuneFromSec: iso("2023-01-01"), tuneToSec: iso("2022-01-01") },
        shippedCard,
        12,
        HOUR,
      ),
    ).toThrow(
      "the tune window 2023-01-01T00:00Z → 2022-01-01T00:00Z is reversed: --tune-from must come before --tune-to",
    );
    expect(() =>
      walkForwardWindows(
        { scoreFromSec: iso("2023-09-01"), scoreToSec: iso("2023-09-01") },
        shippedCard,
        12,
        HOUR,
      ),
    ).toThrow("the score window 2023-09-01T00:00Z → 2023-09-01T00:00Z is empty");
    // a tune window ending so late that the purge leaves nothing before the validation period
    expect(() =>
      walkForwardWindows({ tuneToSec: iso("2023-12-31T20:00:00Z") }, shippedCard, 12, HOUR),
    ).toThrow(/the score window .* is reversed/);
  });

  it("keeps the validation period for the out-of-sample report unless asked knowingly", () => {
    const late = { scoreToSec: iso("2024-03-01") };
    expect(() => walkForwardWindows(late, shippedCard, 12, HOUR)).toThrow(
      /inside the model card's validation period \(from 2024-01-01T00:00Z\).*--allow-validation-window/,
    );
    expect(
      walkForwardWindows({ ...late, allowValidationWindow: true }, shippedCard, 12, HOUR).score.toSec,
    ).toBe(iso("2024-03-01"));
  });

  it("refuses a window with no candle in it", () => {
    const sym = market(() => 100, {});
    const inside = { fromSec: T0 + 600 * HOUR, toSec: T0 + 700 * HOUR };
    expect(() => checkWindowHasCandles("tune", inside, [sym], HOUR)).not.toThrow();
    expect(() =>
      checkWindowHasCandles("score", { fromSec: T0 + 2000 * HOUR, toSec: T0 + 3000 * HOUR }, [sym], HOUR),
    ).toThrow(
      /the score window .* holds no candle close: the candles close from 2024-01-01T01:00Z to 2024-02-07T12:00Z/,
    );
  });
});

describe("rankBy: best first, ties in grid order", () => {
  it("orders by value, descending, and keeps the index order of equal values", () => {
    const values = [0.5, 2, Number.NEGATIVE_INFINITY, 2, -1, Number.POSITIVE_INFINITY];
    expect(rankBy(values.length, (i) => values[i]!)).toEqual([5, 1, 3, 0, 4, 2]);
  });
  it("ranks a figure that cannot be computed (NaN) last", () => {
    const summary = (sharpe: number) => ({ sharpe }) as RunSummary;
    const runs = [summary(Number.NaN), summary(-3), summary(1)];
    expect(rankBy(3, (i) => metricOf(runs[i]!, "sharpe"))).toEqual([2, 1, 0]);
  });
});

describe("sweep notes", () => {
  it("says when top configurations made no trade in the score window", () => {
    const row = (trades: number) => ({ score: { trades } as RunSummary });
    expect(idleRowNotes([row(3), row(1)])).toEqual([]);
    expect(idleRowNotes([row(3), row(0), row(0)])).toEqual([
      expect.stringMatching(
        /^2 of the top 3 made no trade in the score window: their score figures are zeros/,
      ),
    ]);
  });
});

/**
 * Two symbols on synthetic candles: a wave with BUY signals near its troughs and SELL signals near
 * its crests, so that targets, stops, time limits and signals all happen, differently per setting.
 */
function syntheticMarket(): SweepMarket {
  const wave = (phase: number, drift: number) => (i: number) =>
    100 * (1 + drift * i) * (1 + 0.04 * Math.sin((i + phase) / 9) + 0.01 * Math.sin((i * 7 + phase) / 5));
  const signalsOf = (phase: number) => {
    const s: Record<number, "BUY" | "SELL"> = {};
    for (let i = 500; i < ROWS; i++) {
      const x = Math.sin((i + phase) / 9);
      if (x < -0.97 && i % 2 === 0) s[i] = "BUY";
      else if (x > 0.97 && i % 3 === 0) s[i] = "SELL";
    }
    return s;
  };
  const btc = market(wave(0, 0.0001), signalsOf(0));
  const eth: BacktestSymbol = { ...market(wave(13, -0.00005), signalsOf(13)), productId: "ETH-USD" };
  return { symbols: [btc, eth], granularity: "ONE_HOUR", intervalSeconds: HOUR, modelVersion: "test" };
}

const syntheticCard: CardPeriods = {
  labelHorizonCandles: 12,
  labelGranularitySeconds: HOUR,
  validationFromSec: T0 + ROWS * HOUR * 2,
  fittedFromSec: 0,
  fittedToSec: 1,
};

const GRID = {
  EXIT_TIME_LIMIT_CANDLES: [4, 12, 0],
  EXIT_TAKE_PROFIT_LADDER: ["1:0.5,2:0.5", "0.5:1", "none"],
  BRIDGE_MIN_CONFIDENCE: [0.6, 0.75],
};

describe("runSweep on worker threads (synthetic market)", () => {
  const data = syntheticMarket();
  const grid = parseGrid(GRID);
  const windows = walkForwardWindows(
    { tuneFromSec: T0 + 501 * HOUR, tuneToSec: T0 + 700 * HOUR, scoreToSec: T0 + (ROWS + 1) * HOUR },
    syntheticCard,
    longestTimeLimitCandles(grid),
    HOUR,
  );
  const sweep = (workers: number, top = 5) =>
    runSweep(data, { grid, windows, metric: "sharpe", top, workers });
  const withoutTiming = (r: SweepResult) => ({ ...r, timing: undefined, workers: undefined });

  it("gives the same table whatever the number of workers, and each worker's figures are the replay's", async () => {
    const [one, two] = [await sweep(1), await sweep(2)];
    expect(one.workers).toBe(1);
    expect(two.workers).toBe(2);
    expect(withoutTiming(two)).toEqual(withoutTiming(one));
    const table = (r: SweepResult) =>
      formatSweep(r)
        .split("\n")
        .filter((line) => !/^(Walk-forward sweep|Speed:)/.test(line));
    expect(table(two)).toEqual(table(one));
    // the settings matter: the configurations do not all trade alike
    expect(new Set(one.tune.map((t) => t.tradesSha256)).size).toBeGreaterThan(4);
    // the synthetic signals are 70% confident: BRIDGE_MIN_CONFIDENCE 0.75 lets none through
    for (const [i, t] of one.tune.entries())
      expect(t.trades > 0, configurationLabel(grid, i)).toBe(
        configurationAt(grid, i).BRIDGE_MIN_CONFIDENCE === 0.6,
      );
    expect(Math.max(...one.tune.map((t) => t.closingTrades))).toBeGreaterThan(0);
    // a worker's answer equals the same replay on this thread, on memory it shares
    const shared = { ...data, symbols: shareSymbols(data.symbols) };
    expect(shared.symbols[0]!.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const i of [0, 7, grid.count - 1])
      expect(one.tune[i]).toEqual(await runConfiguration(data, configurationAt(grid, i), windows.tune));
    const best = one.rows[0]!;
    expect(best.score).toEqual(
      await runConfiguration(shared, configurationAt(grid, best.configuration), windows.score),
    );
  }, 60_000);

  it("ranks the top K of the tune window by the score window's metric", async () => {
    const r = await sweep(2, 4);
    const tuneOrder = rankBy(grid.count, (i) => metricOf(r.tune[i]!, "sharpe"));
    expect(r.rows).toHaveLength(4);
    expect(r.rows.map((row) => row.configuration).sort((a, b) => a - b)).toEqual(
      tuneOrder.slice(0, 4).sort((a, b) => a - b),
    );
    for (const row of r.rows) expect(tuneOrder.indexOf(row.configuration) + 1).toBe(row.tuneRank);
    expect(r.rows.map((row) => row.scoreRank)).toEqual([1, 2, 3, 4]);
    for (let k = 1; k < r.rows.length; k++)
      expect(metricOf(r.rows[k - 1]!.score, "sharpe")).toBeGreaterThanOrEqual(
        metricOf(r.rows[k]!.score, "sharpe"),
      );
    const text = formatSweep(r);
    expect(text).toContain(
      'Ranked by SCORE-window Sharpe (column "rank") among the top 4 configurations by TUNE-window Sharpe (column "tune#")',
    );
    expect(text).toMatch(/configurations\/s/);
    expect(text).toContain(`purge between them: ${windows.purgeExplanation}`);
  }, 60_000);
});
