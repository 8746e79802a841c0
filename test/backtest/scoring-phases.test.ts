import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type BacktestSymbol, runBacktest, type ScoringPhase, tradesFingerprint } from "#backtest/engine.js";
import { listMarketFiles, predictMarket } from "#backtest/predictions.js";
import { backtestCandles, DEFAULT_FILL_SETTINGS, defaultSpan } from "#backtest/run.js";
import { bundledProductRules } from "#coinbase/product-rules.js";
import { cardPathFor, DEFAULT_DECISION_THRESHOLDS } from "#model/index.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { DEFAULT_BRIDGE_SETTINGS } from "#steps/signal-bridge.js";
import { shippedModel } from "#test/e2e/support.js";
import { REPO_ROOT } from "#test/support/paths.js";

const REPLAY = resolve(REPO_ROOT, "data/replay");
const MODEL_PATH = resolve(REPO_ROOT, "models/signal-model.onnx");

describe("replay while the model is still scoring", () => {
  it("waits for each phase and replays exactly what it replays on finished probabilities", async () => {
    const model = await shippedModel();
    const finished = await predictMarket(model, listMarketFiles(REPLAY, "ONE_HOUR"));
    const span = defaultSpan(finished, 3600);
    const settings = {
      granularity: "ONE_HOUR" as const,
      intervalSeconds: 3600,
      ...span,
      startingCashUsd: 10_000,
      thresholds: DEFAULT_DECISION_THRESHOLDS,
      bridge: DEFAULT_BRIDGE_SETTINGS,
      // permissive limits so that the short sample trades in both halves
      limits: { ...DEFAULT_RISK_LIMITS, maxAssetFraction: 1, maxTotalExposure: 1, maxTradesPerDay: 100 },
      fill: DEFAULT_FILL_SETTINGS,
      modelVersion: model.version,
      rulesFor: bundledProductRules,
    };
    const reference = await runBacktest(finished, settings);
    expect(reference.trades.length).toBeGreaterThan(1);

    // the same symbols with nothing scored yet; each phase fills its rows only when it resolves,
    // and anything read early would be NaN (never a signal) and change the trades
    // cut between the trades: the hour of the middle trade
    const tradeTimes = reference.trades.map((t) => Date.parse(t.time) / 1000);
    const cut = Math.floor(tradeTimes[tradeTimes.length >> 1] / 3600) * 3600;
    expect(tradeTimes.some((t) => t < cut) && tradeTimes.some((t) => t > cut + 3600)).toBe(true);
    const streaming: BacktestSymbol[] = finished.map((s) => ({
      ...s,
      probabilities: new Float32Array(s.probabilities.length).fill(Number.NaN),
    }));
    const fill = (from: number, to: number) => {
      for (const [k, s] of streaming.entries()) {
        for (let i = 0; i < s.length; i++) {
          if (s.start[i] >= from && s.start[i] < to) {
            s.probabilities.set(finished[k].probabilities.subarray(i * 3, i * 3 + 3), i * 3);
          }
        }
      }
    };
    const waited: string[] = [];
    const later = (ms: number, label: string, work: () => void) =>
      new Promise<void>((done) =>
        setTimeout(() => {
          waited.push(label);
          work();
          done();
        }, ms),
      );
    const phases: ScoringPhase[] = [
      { beforeSec: cut, done: later(30, "history", () => fill(Number.NEGATIVE_INFINITY, cut)) },
      {
        beforeSec: Number.POSITIVE_INFINITY,
        done: later(80, "tail", () => fill(cut, Number.POSITIVE_INFINITY)),
      },
    ];
    const run = await runBacktest(streaming, settings, phases);
    expect(waited).toEqual(["history", "tail"]);
    expect(run.waitedForScoresMs).toBeGreaterThan(20);
    expect(tradesFingerprint(run.trades)).toBe(tradesFingerprint(reference.trades));
    expect(Array.from(run.equity)).toEqual(Array.from(reference.equity));
    expect(run.counts).toEqual(reference.counts);
  });

  it("a backtest with inference on a worker thread equals the one-thread backtest", async () => {
    const model = await shippedModel();
    const options = { candlesDir: REPLAY, modelPath: MODEL_PATH, model };
    const [threaded, oneThread] = [
      await backtestCandles({ ...options, inferenceThread: true }),
      await backtestCandles({ ...options, inferenceThread: false }),
    ];
    expect(threaded.timing.inferenceThread).toBe(true);
    expect(threaded.timing.rowsInferred).toBe(oneThread.timing.rowsInferred);
    expect(threaded.tradesSha256).toBe(oneThread.tradesSha256);
    expect(Array.from(threaded.curves.equity)).toEqual(Array.from(oneThread.curves.equity));
    expect(threaded.buyAndHold).toEqual(oneThread.buyAndHold);
  });

  it("with a model that cannot be scored, says what is wrong with the model, not with the thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-model-"));
    try {
      const corrupt = join(dir, "signal-model.onnx");
      writeFileSync(corrupt, readFileSync(MODEL_PATH).subarray(0, 1000));
      copyFileSync(cardPathFor(MODEL_PATH), cardPathFor(corrupt));
      await expect(
        backtestCandles({ candlesDir: REPLAY, modelPath: corrupt, symbols: ["BTC-USD"] }),
      ).rejects.toThrow(/Signal model .*signal-model\.onnx \(1000 bytes\) is not a loadable ONNX model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
