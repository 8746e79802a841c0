import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ADX as TiAdx,
  ATR as TiAtr,
  BollingerBands as TiBollinger,
  CCI as TiCci,
  MACD as TiMacd,
  OBV as TiObv,
  RSI as TiRsi,
  Stochastic as TiStochastic,
  WilliamsR as TiWilliamsR,
} from "technicalindicators";
import {
  ADX,
  ATR,
  BollingerBands,
  CCI,
  EMA,
  MACD,
  OBV,
  RSI,
  StochasticOscillator,
  WilliamsR,
} from "trading-signals";
import { computeFeatureMatrix, FEATURE_COUNT, type OhlcvSeries } from "#features/index.js";
import { listCandleFiles, readCandleColumns } from "#market-data/replay.js";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const CANDLE_DIR =
  process.env.SHARED_CANDLES_DIR ?? resolve(import.meta.dirname, "../../shared/data/candles");
const ENGINE_RUNS = 7;
const LIBRARY_RUNS = 2;
/** The standard indicators both libraries compute, the same ones the engine includes among its 51. */
const LIBRARY_INDICATORS = "RSI, MACD, ATR, Bollinger, Stochastic, Williams %R, CCI, ADX, OBV";

function loadHourlySeries(): OhlcvSeries[] {
  return listCandleFiles(CANDLE_DIR)
    .filter((f) => f.granularity === "ONE_HOUR")
    .map((f) => readCandleColumns(f.path));
}

function bestSeconds(runs: number, work: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    work();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (seconds < best) best = seconds;
  }
  return best;
}

function tradingSignalsPass(all: OhlcvSeries[]): number {
  let checksum = 0;
  for (const s of all) {
    const rsi = new RSI(14);
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    const atr = new ATR(14);
    const bb = new BollingerBands(20, 2);
    const stoch = new StochasticOscillator({ kPeriod: 14, kSlowingPeriod: 1, dPeriod: 3 });
    const willr = new WilliamsR(14);
    const cci = new CCI(20);
    const adx = new ADX(14);
    const obv = new OBV(2);
    for (let i = 0; i < s.length; i++) {
      const candle = {
        open: s.open[i],
        high: s.high[i],
        low: s.low[i],
        close: s.close[i],
        volume: s.volume[i],
      };
      const close = s.close[i];
      checksum += rsi.add(close) ?? 0;
      checksum += macd.add(close)?.histogram ?? 0;
      checksum += atr.add(candle) ?? 0;
      checksum += bb.add(close)?.middle ?? 0;
      checksum += stoch.add(candle)?.stochD ?? 0;
      checksum += willr.add(candle) ?? 0;
      checksum += cci.add(candle) ?? 0;
      checksum += adx.add(candle) ?? 0;
      checksum += obv.add(candle) ?? 0;
    }
  }
  return checksum;
}

function technicalIndicatorsPass(all: OhlcvSeries[]): number {
  let checksum = 0;
  for (const s of all) {
    const high = Array.from(s.high);
    const low = Array.from(s.low);
    const close = Array.from(s.close);
    const volume = Array.from(s.volume);
    const hlc = { high, low, close };
    checksum += TiRsi.calculate({ period: 14, values: close }).length;
    checksum += TiMacd.calculate({
      values: close,
      fastPeriod: 12,
      slowPeriod: 26,
      signalPeriod: 9,
      SimpleMAOscillator: false,
      SimpleMASignal: false,
    }).length;
    checksum += TiAtr.calculate({ ...hlc, period: 14 }).length;
    checksum += TiBollinger.calculate({ period: 20, stdDev: 2, values: close }).length;
    checksum += TiStochastic.calculate({ ...hlc, period: 14, signalPeriod: 3 }).length;
    checksum += TiWilliamsR.calculate({ ...hlc, period: 14 }).length;
    checksum += TiCci.calculate({ ...hlc, period: 20 }).length;
    checksum += TiAdx.calculate({ ...hlc, period: 14 }).length;
    checksum += TiObv.calculate({ close, volume }).length;
  }
  return checksum;
}

export async function benchFeatures(): Promise<BenchResult[]> {
  const all = loadHourlySeries();
  const candles = all.reduce((sum, s) => sum + s.length, 0);
  const longest = all.reduce((max, s) => Math.max(max, s.length), 0);
  const out = new Float64Array(longest * FEATURE_COUNT);
  let sink = 0;

  const engine = bestSeconds(ENGINE_RUNS, () => {
    for (const s of all) sink += computeFeatureMatrix(s, out)[(s.length - 1) * FEATURE_COUNT];
  });
  const tradingSignals = bestSeconds(LIBRARY_RUNS, () => {
    sink += tradingSignalsPass(all);
  });
  const technicalIndicators = bestSeconds(LIBRARY_RUNS, () => {
    sink += technicalIndicatorsPass(all);
  });
  if (Number.isNaN(sink)) throw new Error("benchmark checksum is NaN: an input file is malformed");

  const engineRate = candles / engine;
  return [
    { name: "features.candles", value: candles, unit: "candles (19 symbols, 1h, full history)" },
    {
      name: "features.engine.throughput",
      value: engineRate,
      unit: `candles/s (all ${FEATURE_COUNT} features)`,
    },
    {
      name: "features.trading-signals.throughput",
      value: candles / tradingSignals,
      unit: `candles/s (${LIBRARY_INDICATORS})`,
    },
    {
      name: "features.technicalindicators.throughput",
      value: candles / technicalIndicators,
      unit: `candles/s (${LIBRARY_INDICATORS})`,
    },
    { name: "features.engine.speedup_vs_trading-signals", value: tradingSignals / engine, unit: "x" },
    {
      name: "features.engine.speedup_vs_technicalindicators",
      value: technicalIndicators / engine,
      unit: "x",
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchFeatures();
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`${"metric".padEnd(width)}  ${"value".padStart(14)}  unit`);
  for (const r of results) {
    const value = r.value >= 100 ? Math.round(r.value).toLocaleString("en-US") : r.value.toFixed(2);
    console.log(`${r.name.padEnd(width)}  ${value.padStart(14)}  ${r.unit}`);
  }
}
