import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Context } from "aws-lambda";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type Candle, Signal } from "#domain/schemas.js";
import { SERVING_WINDOW } from "#features/index.js";
import { readCandles } from "#market-data/replay.js";
import { loadSignalModel, type SignalModel } from "#model/index.js";
import { silentLog } from "#runtime/log.js";
import { generateSignals, prepareRow, signalIdFor } from "#steps/generate-signals.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

const ROOT = resolve(import.meta.dirname, "../..");
const REPLAY = join(ROOT, "data/replay");
const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD"];
const candlesOf = (symbol: string): Candle[] =>
  readCandles(join(REPLAY, `${symbol.replace("-USD", "-USDT")}_1h.csv`));
const last = (c: Candle[]) => c[c.length - 1];
/** one minute after the last candle of the sample closed */
const NOW = new Date((last(candlesOf("BTC-USD")).start + 3600 + 60) * 1000);

function memoryStores(series: Record<string, Candle[]>) {
  const written = new Map<string, Signal>();
  return {
    written,
    candles: {
      latestCandles: async (symbol: string, _g: string, limit: number) =>
        (series[symbol] ?? []).slice(-limit),
    },
    signals: {
      putSignal: async (s: Signal) => {
        if (written.has(s.signalId)) return false;
        written.set(s.signalId, s);
        return true;
      },
    },
  };
}

const settings = {
  symbols: SYMBOLS,
  granularity: "ONE_HOUR" as const,
  thresholds: { buy: 0.5, sell: 0.6 },
  ttlDays: 30,
  dataSource: "replay" as const,
};

describe("signal generation", () => {
  it("scores every symbol with a full window in one batch and writes complete, deterministic signals once", async () => {
    const model = await loadSignalModel(
      join(ROOT, "models/signal-model.onnx"),
      join(ROOT, "models/signal-model.card.json"),
    );
    const stores = memoryStores(Object.fromEntries(SYMBOLS.map((s) => [s, candlesOf(s)])));
    const predict = vi.spyOn(model, "predict");
    const report = await generateSignals({ ...stores, model, log: silentLog }, settings, NOW);
    expect(predict).toHaveBeenCalledTimes(1);
    expect(report.skipped).toEqual([]);
    expect(report.written).toBe(4);
    for (const s of report.signals) {
      expect(Signal.parse(s)).toEqual(s);
      expect(s.featuresUsed).toBe(51);
      expect(s.modelVersion).toBe(model.version);
      expect(s.price).toBe(last(candlesOf(s.symbol)).close);
      expect(s.signalId).toBe(signalIdFor(s.symbol, "ONE_HOUR", s.candleStart, model.version));
      const p = s.probabilities;
      expect(p.down + p.hold + p.up).toBeCloseTo(1, 5);
      if (s.signalType === "BUY") expect(p.up).toBeGreaterThan(0.5);
      else if (s.signalType === "SELL") expect(p.down).toBeGreaterThan(0.6);
      else expect(p.up <= 0.5 && p.down <= 0.6).toBe(true);
    }
    const again = await generateSignals({ ...stores, model, log: silentLog }, settings, NOW);
    expect(again.written).toBe(0);
    expect(again.signals.map((s) => s.probabilities)).toEqual(report.signals.map((s) => s.probabilities));
  });

  it("never scores a partial window or stale data: the symbol is skipped with the reason", () => {
    const btc = candlesOf("BTC-USD");
    const short = prepareRow("BTC-USD", btc.slice(-(SERVING_WINDOW - 1)), "ONE_HOUR", NOW);
    expect(short).toMatchObject({
      reason: expect.stringMatching(/only 499 closed ONE_HOUR candles stored; 500 are needed/),
    });
    const later = new Date(NOW.getTime() + 5 * 3_600_000);
    expect(prepareRow("BTC-USD", btc, "ONE_HOUR", later)).toMatchObject({
      reason: expect.stringMatching(/market-data is behind/),
    });
    // the still-open bucket is not used: at NOW − 30 min the last candle has not closed yet
    const earlier = new Date(NOW.getTime() - 30 * 60_000);
    const row = prepareRow("BTC-USD", btc, "ONE_HOUR", earlier);
    expect("last" in row && row.last.start).toBe(btc[btc.length - 2].start);
  });
});

describe("one symbol's bad data does not stop the others", () => {
  let model: SignalModel;
  beforeAll(async () => {
    model = await loadSignalModel(
      join(ROOT, "models/signal-model.onnx"),
      join(ROOT, "models/signal-model.card.json"),
    );
  });
  const two = { ...settings, symbols: ["BTC-USD", "ETH-USD"] };
  const errors: { message: string; detail: unknown }[] = [];
  const log = { ...silentLog, error: (message: string, detail: unknown) => errors.push({ message, detail }) };
  afterEach(() => {
    errors.length = 0;
  });

  it("a bad candle stored in DynamoDB fails its symbol with the candle named; the other symbol is scored", async () => {
    const cloud = await isolatedCloud("signals-bad-candle");
    const stores = createStores(createDocumentClient());
    const btc = candlesOf("BTC-USD").slice(-(SERVING_WINDOW + 2));
    const eth = candlesOf("ETH-USD").slice(-(SERVING_WINDOW + 2));
    const bad = { ...eth[eth.length - 10], close: 0 };
    await stores.candles.putCandles([...btc, ...eth.slice(0, -10), bad, ...eth.slice(-9)]);
    const report = await generateSignals(
      { candles: stores.candles, signals: stores.signals, model, log },
      two,
      NOW,
    );
    expect(report.signals.map((s) => s.symbol)).toEqual(["BTC-USD"]);
    expect(report.written).toBe(1);
    expect(report.skipped).toEqual([]);
    expect(report.failed).toEqual([
      {
        symbol: "ETH-USD",
        reason: `its stored candles could not be read: ${cloud.tables.candles}: stored candle ETH-USD#ONE_HOUR start=${bad.start} is invalid (close: Too small: expected number to be >0; candle high/low must bracket open and close); delete it or overwrite it with a valid candle`,
      },
    ]);
    expect(errors).toEqual([{ message: "symbol failed", detail: report.failed[0] }]);
  });

  it("a store that hands over an invalid candle (no schema of its own) fails only that symbol", async () => {
    const eth = candlesOf("ETH-USD");
    const bad = { ...eth[eth.length - 3], low: -1 };
    const stores = memoryStores({
      "BTC-USD": candlesOf("BTC-USD"),
      "ETH-USD": [...eth.slice(0, -3), bad, ...eth.slice(-2)],
    });
    const report = await generateSignals({ ...stores, model, log }, two, NOW);
    expect(report.signals.map((s) => s.symbol)).toEqual(["BTC-USD"]);
    expect(report.failed).toEqual([
      {
        symbol: "ETH-USD",
        reason: `its features could not be computed: stored candle of ${new Date(bad.start * 1000).toISOString()} (start=${bad.start}) is not a valid candle: low: Too small: expected number to be >0`,
      },
    ]);
  });

  it("a failed read or write of one symbol is reported and the others are written", async () => {
    const stores = memoryStores(Object.fromEntries(SYMBOLS.map((s) => [s, candlesOf(s)])));
    const read = stores.candles.latestCandles;
    const put = stores.signals.putSignal;
    const report = await generateSignals(
      {
        candles: {
          latestCandles: async (symbol: string, g: string, limit: number) => {
            if (symbol === "SOL-USD") throw new Error("ProvisionedThroughputExceededException: slow down");
            return read(symbol, g, limit);
          },
        },
        signals: {
          putSignal: async (signal: Signal) => {
            if (signal.symbol === "ETH-USD") throw new Error("socket hang up");
            return put(signal);
          },
        },
        model,
        log,
      },
      settings,
      NOW,
    );
    expect(report.signals.map((s) => s.symbol)).toEqual(["BTC-USD", "DOGE-USD"]);
    expect(report.written).toBe(2);
    expect([...stores.written.values()].map((s) => s.symbol)).toEqual(["BTC-USD", "DOGE-USD"]);
    expect(report.failed).toEqual([
      {
        symbol: "SOL-USD",
        reason: "its stored candles could not be read: ProvisionedThroughputExceededException: slow down",
      },
      {
        symbol: "ETH-USD",
        reason: "its signal could not be stored: socket hang up",
      },
    ]);
  });
});

describe("signal-generator handler init (no fallback)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("fails at init with a clear error when the model file is missing", async () => {
    vi.stubEnv("MODEL_PATH", join(tmpdir(), "no-such-model.onnx"));
    vi.stubEnv("SYMBOLS", "BTC-USD");
    await expect(import("#functions/signal-generator/handler.js")).rejects.toThrow(/does not exist/);
  });

  it("fails at init when the model file is corrupt", async () => {
    const corrupt = join(tmpdir(), `corrupt-${process.pid}.onnx`);
    writeFileSync(corrupt, Buffer.from("not an onnx model at all".repeat(20)));
    vi.stubEnv("MODEL_PATH", corrupt);
    vi.stubEnv("SYMBOLS", "BTC-USD");
    await expect(import("#functions/signal-generator/handler.js")).rejects.toThrow(
      /ModelLoadError|cannot be loaded|corrupt|sha256/i,
    );
  });
});

describe("signal-generator handler: per-symbol failures", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("returns the failed symbols beside the others, and throws only when every symbol failed", async () => {
    await isolatedCloud("signal-handler-failed");
    const stores = createStores(createDocumentClient());
    const badOf = (symbol: string) => {
      const c = candlesOf(symbol).slice(-5);
      return [...c.slice(0, 4), { ...c[4], high: c[4].low / 2 }];
    };
    await stores.candles.putCandles([...badOf("ETH-USD"), ...candlesOf("BTC-USD").slice(-5)]);
    vi.stubEnv("SYMBOLS", "BTC-USD,ETH-USD");
    vi.resetModules();
    const { handler } = await import("#functions/signal-generator/handler.js");
    const run = () => handler({ action: "run" }, {} as Context);

    const result = (await run()) as {
      failed: { symbol: string; reason: string }[];
      skipped: { symbol: string }[];
    };
    expect(result.failed.map((f) => f.symbol)).toEqual(["ETH-USD"]);
    expect(result.failed[0].reason).toMatch(
      /stored candle ETH-USD#ONE_HOUR start=\d+ is invalid \(candle high\/low/,
    );
    expect(result.skipped.map((s) => s.symbol)).toEqual(["BTC-USD"]); // old candles: market-data is behind

    await stores.candles.putCandles(badOf("BTC-USD"));
    await expect(run()).rejects.toThrow(
      /signal-generator wrote nothing: every symbol failed \(BTC-USD: its stored candles could not be read: .*; ETH-USD: /,
    );
  });
});
