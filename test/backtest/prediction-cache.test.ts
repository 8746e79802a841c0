import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listMarketFiles } from "#backtest/predictions.js";
import { type BacktestOptions, backtestCandles } from "#backtest/run.js";
import { resolveSettings } from "#backtest/settings.js";
import { shippedModel } from "#test/e2e/support.js";
import { REPO_ROOT } from "#test/support/paths.js";

const REPLAY = resolve(REPO_ROOT, "data/replay");
const MODEL_PATH = resolve(REPO_ROOT, "models/signal-model.onnx");
const SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "DOGE-USDT"];
const scratch = mkdtempSync(join(tmpdir(), "prediction-cache-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the prediction cache (model sha256 x candle file sha256)", () => {
  it("is filled by a cold run, then serves re-runs with other fees without the model, and recomputes only what is missing or damaged", async () => {
    const model = await shippedModel();
    const cacheDir = join(scratch, "predictions");
    const base: BacktestOptions = { candlesDir: REPLAY, modelPath: MODEL_PATH, model, symbols: SYMBOLS };
    const uncached = await backtestCandles(base);

    const cold = await backtestCandles({ ...base, cacheDir });
    expect(cold.timing.cacheHits).toBe(0);
    expect(cold.timing.rowsInferred).toBe(uncached.timing.rowsInferred);
    expect(cold.tradesSha256).toBe(uncached.tradesSha256);
    const entries = readdirSync(cacheDir).sort();
    expect(entries).toHaveLength(SYMBOLS.length);
    for (const name of entries)
      expect(name).toMatch(new RegExp(`^${model.sha256.slice(0, 16)}-[0-9a-f]{16}\\.bin$`));

    const warm = await backtestCandles({ ...base, cacheDir });
    expect(warm.timing.cacheHits).toBe(SYMBOLS.length);
    expect(warm.timing.rowsInferred).toBe(0);
    expect(warm.timing.inferenceMs).toBe(0);
    expect(warm.tradesSha256).toBe(cold.tradesSha256);

    // other fees: the cached probabilities, the trades of a run without any cache
    const fees = resolveSettings([
      { name: "test", values: { PAPER_TAKER_FEE_BPS: 25, PAPER_SLIPPAGE_BPS: 10 } },
    ]);
    const warmFees = await backtestCandles({ ...base, cacheDir, settings: fees });
    expect(warmFees.timing.cacheHits).toBe(SYMBOLS.length);
    expect(warmFees.tradesSha256).toBe((await backtestCandles({ ...base, settings: fees })).tradesSha256);
    expect(warmFees.tradesSha256).not.toBe(cold.tradesSha256);

    // one entry missing, one cut short (an interrupted write): both recomputed, the rest served
    unlinkSync(join(cacheDir, entries[0]));
    truncateSync(join(cacheDir, entries[1]), 100);
    const partial = await backtestCandles({ ...base, cacheDir });
    expect(partial.timing.cacheHits).toBe(SYMBOLS.length - 2);
    expect(partial.timing.rowsInferred).toBeGreaterThan(0);
    expect(partial.timing.rowsInferred).toBeLessThan(cold.timing.rowsInferred);
    expect(partial.tradesSha256).toBe(cold.tradesSha256);
    expect(readdirSync(cacheDir).sort()).toEqual(entries);
    expect((await backtestCandles({ ...base, cacheDir })).timing.cacheHits).toBe(SYMBOLS.length);
  });

  it("keys entries by the file's bytes: the one-thread path fills what the worker path reads, and a copy of the candles elsewhere hits", async () => {
    const model = await shippedModel();
    const cacheDir = join(scratch, "one-thread");
    const symbols = SYMBOLS.slice(0, 2);
    const base: BacktestOptions = { candlesDir: REPLAY, modelPath: MODEL_PATH, model, symbols, cacheDir };
    const oneThread = await backtestCandles({ ...base, inferenceThread: false });
    expect(oneThread.timing.cacheHits).toBe(0);
    const threaded = await backtestCandles(base);
    expect(threaded.timing.cacheHits).toBe(2);
    expect(threaded.tradesSha256).toBe(oneThread.tradesSha256);

    const elsewhere = join(scratch, "copied-candles");
    mkdirSync(elsewhere);
    for (const file of listMarketFiles(REPLAY, "ONE_HOUR", symbols))
      copyFileSync(file.path, join(elsewhere, basename(file.path)));
    const copied = await backtestCandles({ ...base, candlesDir: elsewhere });
    expect(copied.timing.cacheHits).toBe(2);
    expect(copied.tradesSha256).toBe(oneThread.tradesSha256);
  });
});
