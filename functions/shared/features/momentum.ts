import { featureIndex } from "./names.js";
import { emaInto, rangeScansInto, rollingSumChunk } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import { CHUNK_ROWS, HISTORY, type Workspace } from "./workspace.js";

const RETURN_HORIZONS = [1, 3, 6, 12, 24, 48] as const;
const RET_COLUMNS = RETURN_HORIZONS.map((h) => featureIndex(`ret_${h}` as "ret_1"));

/** Log returns over several horizons; also fills ws.r1Squared (used by realized volatility). */
export function computeReturns(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const r1Squared = ws.r1Squared;
  const ret1 = RET_COLUMNS[0] * CHUNK_ROWS - from;
  for (let i = Math.max(from, 1); i < to; i++) {
    const prev = close[i - 1];
    // log1p of the relative change keeps tiny returns accurate (log(c/prev) loses digits near 0).
    const r = Math.log1p((close[i] - prev) / prev);
    m[ret1 + i] = r;
    r1Squared[i] = r * r;
  }
  const c3 = RET_COLUMNS[1] * CHUNK_ROWS - from;
  const c6 = RET_COLUMNS[2] * CHUNK_ROWS - from;
  const c12 = RET_COLUMNS[3] * CHUNK_ROWS - from;
  const c24 = RET_COLUMNS[4] * CHUNK_ROWS - from;
  const c48 = RET_COLUMNS[5] * CHUNK_ROWS - from;
  for (let i = Math.max(from, 3); i < to; i++) {
    const c = close[i];
    let prev = close[i - 3];
    m[c3 + i] = Math.log1p((c - prev) / prev);
    if (i < 6) continue;
    prev = close[i - 6];
    m[c6 + i] = Math.log1p((c - prev) / prev);
    if (i < 12) continue;
    prev = close[i - 12];
    m[c12 + i] = Math.log1p((c - prev) / prev);
    if (i < 24) continue;
    prev = close[i - 24];
    m[c24 + i] = Math.log1p((c - prev) / prev);
    if (i < 48) continue;
    prev = close[i - 48];
    m[c48 + i] = Math.log1p((c - prev) / prev);
  }
}

const RSI = featureIndex("rsi_14");

/** RSI(14) with Wilder smoothing seeded by the mean of the first 14 changes; flat window = 50. */
export function computeRsi(s: OhlcvSeries, ws: Workspace): void {
  const period = 14;
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const factor = 1 / period;
  const rsi = RSI * CHUNK_ROWS - from;
  let avgGain = from === 0 ? 0 : rsiState[0];
  let avgLoss = from === 0 ? 0 : rsiState[1];
  for (let i = Math.max(from, 1); i < to; i++) {
    const change = close[i] - close[i - 1];
    // Branch-free selects (price changes are unpredictable); x * 0 + 0 is +0, so the values match
    // Math.max(change, 0) and (change > 0 ? 0 : -change) up to the sign of a zero loss, which no sum sees.
    const gain = change * Number(change > 0) + 0;
    const loss = -change * Number(change < 0) + 0;
    if (i < period) {
      avgGain += gain;
      avgLoss += loss;
      continue;
    }
    if (i === period) {
      avgGain = (avgGain + gain) / period;
      avgLoss = (avgLoss + loss) / period;
    } else {
      avgGain = (gain - avgGain) * factor + avgGain;
      avgLoss = (loss - avgLoss) * factor + avgLoss;
    }
    m[rsi + i] = avgLoss === 0 ? (avgGain === 0 ? 50 : 100) : 100 - 100 / (avgGain / avgLoss + 1);
  }
  rsiState[0] = avgGain;
  rsiState[1] = avgLoss;
}

/** Running state carried from one chunk to the next. */
const rsiState = new Float64Array(2);

const MACD_LINE = featureIndex("macd_line");
const MACD_SIGNAL = featureIndex("macd_signal");
const MACD_HIST = featureIndex("macd_hist");

/** MACD(12,26,9), each of line / signal / histogram divided by close. */
export function computeMacd(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const lineCol = MACD_LINE * CHUNK_ROWS - from;
  const signalCol = MACD_SIGNAL * CHUNK_ROWS - from;
  const histCol = MACD_HIST * CHUNK_ROWS - from;
  // The seeded warm-up (chunk 0) runs as separate EMA passes; the rest continues all three EMAs in one loop.
  let start = from;
  if (from === 0) {
    const warm = Math.min(to, 34);
    const [fast, slow, line, signal] = ws.tmp;
    emaInto(close, 0, 12, warm, fast);
    emaInto(close, 0, 26, warm, slow);
    for (let i = 25; i < warm; i++) line[i] = fast[i] - slow[i];
    emaInto(line, 25, 9, warm, signal);
    for (let i = 25; i < warm; i++) {
      const c = close[i];
      m[lineCol + i] = line[i] / c;
      if (i >= 33) {
        m[signalCol + i] = signal[i] / c;
        m[histCol + i] = (line[i] - signal[i]) / c;
      }
    }
    if (warm === to) return;
    macdState[0] = fast[warm - 1];
    macdState[1] = slow[warm - 1];
    macdState[2] = signal[warm - 1];
    start = warm;
  }
  const fastAlpha = 2 / (12 + 1);
  const fastKeep = 1 - fastAlpha;
  const slowAlpha = 2 / (26 + 1);
  const slowKeep = 1 - slowAlpha;
  const signalAlpha = 2 / (9 + 1);
  const signalKeep = 1 - signalAlpha;
  let fastEma = macdState[0];
  let slowEma = macdState[1];
  let signalEma = macdState[2];
  for (let i = start; i < to; i++) {
    const c = close[i];
    fastEma = c * fastAlpha + fastEma * fastKeep;
    slowEma = c * slowAlpha + slowEma * slowKeep;
    const macd = fastEma - slowEma;
    signalEma = macd * signalAlpha + signalEma * signalKeep;
    m[lineCol + i] = macd / c;
    m[signalCol + i] = signalEma / c;
    m[histCol + i] = (macd - signalEma) / c;
  }
  macdState[0] = fastEma;
  macdState[1] = slowEma;
  macdState[2] = signalEma;
}

const macdState = new Float64Array(3);

const STOCH_K = featureIndex("stoch_k_14");
const STOCH_D = featureIndex("stoch_d_14_3");
const WILLIAMS_R = featureIndex("williams_r_14");

/** Fast stochastic %K(14), %D = SMA(3) of %K, Williams %R(14); a flat 14-candle range gives 50 / -50. */
export function computeStochastic(s: OhlcvSeries, ws: Workspace): void {
  const period = 14;
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const h = ws.history;
  const highPrefix = h[HISTORY.stochHighPrefix];
  const highSuffix = h[HISTORY.stochHighSuffix];
  const lowPrefix = h[HISTORY.stochLowPrefix];
  const lowSuffix = h[HISTORY.stochLowSuffix];
  const k = h[HISTORY.stochK];
  // Chunks start on a block boundary (CHUNK_ROWS is a multiple of the window), so each chunk scans its own blocks.
  rangeScansInto(s.high, s.low, period, from, to, highPrefix, highSuffix, lowPrefix, lowSuffix);
  const stochK = STOCH_K * CHUNK_ROWS - from;
  const williams = WILLIAMS_R * CHUNK_ROWS - from;
  const stochD = STOCH_D * CHUNK_ROWS - from;
  for (let i = Math.max(from, period - 1); i < to; i++) {
    const first = i - period + 1;
    const hh = Math.max(highSuffix[first], highPrefix[i]);
    const ll = Math.min(lowSuffix[first], lowPrefix[i]);
    const range = hh - ll;
    const percentK = range > 0 ? (100 * (close[i] - ll)) / range : 50;
    k[i] = percentK;
    m[stochK + i] = percentK;
    m[williams + i] = range > 0 ? (-100 * (hh - close[i])) / range : -50;
    if (i >= period + 1) m[stochD + i] = (k[i - 2] + k[i - 1] + percentK) / 3;
  }
}

const CCI = featureIndex("cci_20");

/** CCI(20) on the typical price; zero mean deviation gives 0. Fills ws.tp. */
export function computeCci(s: OhlcvSeries, ws: Workspace): void {
  const period = 20;
  const { from, to, chunk: m } = ws;
  const tp = ws.tp;
  const high = s.high;
  const low = s.low;
  const close = s.close;
  const first = Math.min(to, period - 1);
  for (let i = from; i < first; i++) tp[i] = (high[i] + low[i] + close[i]) / 3;
  const cci = CCI * CHUNK_ROWS - from;
  for (let i = Math.max(from, period - 1); i < to; i++) {
    const t19 = (high[i] + low[i] + close[i]) / 3;
    tp[i] = t19;
    // Four independent accumulators break the add dependency chain; the 20-candle window is unrolled
    // (the chains start at their first term: 0 + x is x for these positive prices and absolute values).
    const b = i - 19;
    const t0 = tp[b];
    const t1 = tp[b + 1];
    const t2 = tp[b + 2];
    const t3 = tp[b + 3];
    const t4 = tp[b + 4];
    const t5 = tp[b + 5];
    const t6 = tp[b + 6];
    const t7 = tp[b + 7];
    const t8 = tp[b + 8];
    const t9 = tp[b + 9];
    const t10 = tp[b + 10];
    const t11 = tp[b + 11];
    const t12 = tp[b + 12];
    const t13 = tp[b + 13];
    const t14 = tp[b + 14];
    const t15 = tp[b + 15];
    const t16 = tp[b + 16];
    const t17 = tp[b + 17];
    const t18 = tp[b + 18];
    const s0 = t0 + t4 + t8 + t12 + t16;
    const s1 = t1 + t5 + t9 + t13 + t17;
    const s2 = t2 + t6 + t10 + t14 + t18;
    const s3 = t3 + t7 + t11 + t15 + t19;
    const mean = (s0 + s1 + (s2 + s3)) / period;
    const a0 =
      Math.abs(t0 - mean) +
      Math.abs(t4 - mean) +
      Math.abs(t8 - mean) +
      Math.abs(t12 - mean) +
      Math.abs(t16 - mean);
    const a1 =
      Math.abs(t1 - mean) +
      Math.abs(t5 - mean) +
      Math.abs(t9 - mean) +
      Math.abs(t13 - mean) +
      Math.abs(t17 - mean);
    const a2 =
      Math.abs(t2 - mean) +
      Math.abs(t6 - mean) +
      Math.abs(t10 - mean) +
      Math.abs(t14 - mean) +
      Math.abs(t18 - mean);
    const a3 =
      Math.abs(t3 - mean) +
      Math.abs(t7 - mean) +
      Math.abs(t11 - mean) +
      Math.abs(t15 - mean) +
      Math.abs(t19 - mean);
    const deviation = a0 + a1 + (a2 + a3);
    const meanDeviation = deviation / period;
    m[cci + i] = meanDeviation === 0 ? 0 : (t19 - mean) / (0.015 * meanDeviation);
  }
}

const WT1 = featureIndex("wt1");
const WT2 = featureIndex("wt2");

/** LazyBear Wave Trend: channel 10, average 21, signal SMA 4, on the typical price. Needs ws.tp. */
export function computeWaveTrend(ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const tp = ws.tp;
  const wt1 = WT1 * CHUNK_ROWS - from;
  const wt2 = WT2 * CHUNK_ROWS - from;
  // The seeded warm-up (chunk 0) runs as separate EMA passes; the rest continues the three EMAs in one loop.
  let start = from;
  if (from === 0) {
    const warm = Math.min(to, 42);
    const [esa, absDev, dev, ci, tci] = ws.tmp;
    emaInto(tp, 0, 10, warm, esa);
    for (let i = 9; i < warm; i++) {
      absDev[i] = Math.abs(tp[i] - esa[i]);
    }
    emaInto(absDev, 9, 10, warm, dev);
    for (let i = 18; i < warm; i++) ci[i] = dev[i] === 0 ? 0 : (tp[i] - esa[i]) / (0.015 * dev[i]);
    emaInto(ci, 18, 21, warm, tci);
    for (let i = 38; i < warm; i++) {
      m[wt1 + i] = tci[i];
      if (i >= 41) m[wt2 + i] = (tci[i - 3] + tci[i - 2] + tci[i - 1] + tci[i]) / 4;
    }
    if (warm === to) return;
    waveTrendState[0] = esa[warm - 1];
    waveTrendState[1] = dev[warm - 1];
    waveTrendState[2] = tci[warm - 1];
    waveTrendState[3] = tci[warm - 2];
    waveTrendState[4] = tci[warm - 3];
    start = warm;
  }
  const channelAlpha = 2 / (10 + 1);
  const channelKeep = 1 - channelAlpha;
  const averageAlpha = 2 / (21 + 1);
  const averageKeep = 1 - averageAlpha;
  let esaEma = waveTrendState[0];
  let devEma = waveTrendState[1];
  let tciEma = waveTrendState[2];
  let back1 = waveTrendState[2];
  let back2 = waveTrendState[3];
  let back3 = waveTrendState[4];
  for (let i = start; i < to; i++) {
    const price = tp[i];
    esaEma = price * channelAlpha + esaEma * channelKeep;
    const deviation = Math.abs(price - esaEma);
    devEma = deviation * channelAlpha + devEma * channelKeep;
    const channelIndex = devEma === 0 ? 0 : (price - esaEma) / (0.015 * devEma);
    tciEma = channelIndex * averageAlpha + tciEma * averageKeep;
    m[wt1 + i] = tciEma;
    m[wt2 + i] = (back3 + back2 + back1 + tciEma) / 4;
    back3 = back2;
    back2 = back1;
    back1 = tciEma;
  }
  waveTrendState[0] = esaEma;
  waveTrendState[1] = devEma;
  waveTrendState[2] = tciEma;
  waveTrendState[3] = back2;
  waveTrendState[4] = back3;
}

const waveTrendState = new Float64Array(5);

const MFI = featureIndex("mfi_14");

/** Money Flow Index(14): candles whose typical price is unchanged count on neither side; no flow = 50. Needs ws.tp. */
export function computeMfi(s: OhlcvSeries, ws: Workspace): void {
  const period = 14;
  const { from, to, chunk: m } = ws;
  const tp = ws.tp;
  const volume = s.volume;
  const positive = ws.history[HISTORY.mfiPositive];
  const negative = ws.history[HISTORY.mfiNegative];
  const [positiveSum, negativeSum] = ws.tmp;
  for (let i = Math.max(from, 1); i < to; i++) {
    const flow = tp[i] * volume[i];
    // Branch-free select: flow >= 0, so flow * 0 is +0 like the 0 it replaces.
    positive[i] = flow * Number(tp[i] > tp[i - 1]);
    negative[i] = flow * Number(tp[i] < tp[i - 1]);
  }
  rollingSumChunk(positive, 1, period, from, to, positiveSum, mfiState, 0);
  rollingSumChunk(negative, 1, period, from, to, negativeSum, mfiState, 3);
  const mfi = MFI * CHUNK_ROWS - from;
  for (let i = Math.max(from, period); i < to; i++) {
    const total = positiveSum[i - from] + negativeSum[i - from];
    m[mfi + i] = total === 0 ? 50 : (100 * positiveSum[i - from]) / total;
  }
}

const mfiState = new Float64Array(6);

const EFFICIENCY = featureIndex("efficiency_ratio_10");

/** Kaufman efficiency ratio(10): |net change| / sum of |changes|; no movement = 0. */
export function computeEfficiencyRatio(s: OhlcvSeries, ws: Workspace): void {
  const period = 10;
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const path = ws.history[HISTORY.path];
  const pathSum = ws.tmp[0];
  for (let i = Math.max(from, 1); i < to; i++) path[i] = Math.abs(close[i] - close[i - 1]);
  rollingSumChunk(path, 1, period, from, to, pathSum, efficiencyState, 0);
  const efficiency = EFFICIENCY * CHUNK_ROWS - from;
  for (let i = Math.max(from, period); i < to; i++) {
    m[efficiency + i] = ratioOrZero(Math.abs(close[i] - close[i - period]), pathSum[i - from]);
  }
}

const efficiencyState = new Float64Array(3);

function ratioOrZero(net: number, pathLength: number): number {
  return pathLength === 0 ? 0 : net / pathLength;
}
