import { featureIndex } from "./names.js";
import { emaInto, rangeScansInto, rollingSumInto, startWindowSum, windowSum } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import type { Workspace } from "./workspace.js";

const RETURN_HORIZONS = [1, 3, 6, 12, 24, 48] as const;
const RET_COLUMNS = RETURN_HORIZONS.map((h) => featureIndex(`ret_${h}` as "ret_1"));

/** Log returns over several horizons; also fills ws.r1Squared (used by realized volatility). */
export function computeReturns(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const close = s.close;
  const r1Squared = ws.r1Squared;
  const ret1 = RET_COLUMNS[0] * n;
  for (let i = 1; i < n; i++) {
    const prev = close[i - 1];
    // log1p of the relative change keeps tiny returns accurate (log(c/prev) loses digits near 0).
    const r = Math.log1p((close[i] - prev) / prev);
    m[ret1 + i] = r;
    r1Squared[i] = r * r;
  }
  const c3 = RET_COLUMNS[1] * n;
  const c6 = RET_COLUMNS[2] * n;
  const c12 = RET_COLUMNS[3] * n;
  const c24 = RET_COLUMNS[4] * n;
  const c48 = RET_COLUMNS[5] * n;
  for (let i = 3; i < n; i++) {
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
export function computeRsi(s: OhlcvSeries, m: Float64Array): void {
  const period = 14;
  const n = s.length;
  const close = s.close;
  const factor = 1 / period;
  let avgGain = 0;
  let avgLoss = 0;
  for (let i = 1; i < n; i++) {
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
    m[RSI * n + i] = avgLoss === 0 ? (avgGain === 0 ? 50 : 100) : 100 - 100 / (avgGain / avgLoss + 1);
  }
}

const MACD_LINE = featureIndex("macd_line");
const MACD_SIGNAL = featureIndex("macd_signal");
const MACD_HIST = featureIndex("macd_hist");

/** MACD(12,26,9), each of line / signal / histogram divided by close. */
export function computeMacd(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const close = s.close;
  const lineCol = MACD_LINE * n;
  const signalCol = MACD_SIGNAL * n;
  const histCol = MACD_HIST * n;
  // The seeded warm-up runs as separate EMA passes; the rest continues all three EMAs in one loop.
  const warm = Math.min(n, 34);
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
  if (warm === n) return;
  const fastAlpha = 2 / (12 + 1);
  const fastKeep = 1 - fastAlpha;
  const slowAlpha = 2 / (26 + 1);
  const slowKeep = 1 - slowAlpha;
  const signalAlpha = 2 / (9 + 1);
  const signalKeep = 1 - signalAlpha;
  let fastEma = fast[warm - 1];
  let slowEma = slow[warm - 1];
  let signalEma = signal[warm - 1];
  for (let i = warm; i < n; i++) {
    const c = close[i];
    fastEma = c * fastAlpha + fastEma * fastKeep;
    slowEma = c * slowAlpha + slowEma * slowKeep;
    const macd = fastEma - slowEma;
    signalEma = macd * signalAlpha + signalEma * signalKeep;
    m[lineCol + i] = macd / c;
    m[signalCol + i] = signalEma / c;
    m[histCol + i] = (macd - signalEma) / c;
  }
}

const STOCH_K = featureIndex("stoch_k_14");
const STOCH_D = featureIndex("stoch_d_14_3");
const WILLIAMS_R = featureIndex("williams_r_14");

/** Fast stochastic %K(14), %D = SMA(3) of %K, Williams %R(14); a flat 14-candle range gives 50 / -50. */
export function computeStochastic(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const period = 14;
  const n = s.length;
  const close = s.close;
  const [highPrefix, highSuffix, lowPrefix, lowSuffix, k] = ws.tmp;
  rangeScansInto(s.high, s.low, period, n, highPrefix, highSuffix, lowPrefix, lowSuffix);
  for (let i = period - 1; i < n; i++) {
    const first = i - period + 1;
    const hh = Math.max(highSuffix[first], highPrefix[i]);
    const ll = Math.min(lowSuffix[first], lowPrefix[i]);
    const range = hh - ll;
    const stochK = range > 0 ? (100 * (close[i] - ll)) / range : 50;
    k[i] = stochK;
    m[STOCH_K * n + i] = stochK;
    m[WILLIAMS_R * n + i] = range > 0 ? (-100 * (hh - close[i])) / range : -50;
    if (i >= period + 1) m[STOCH_D * n + i] = (k[i - 2] + k[i - 1] + stochK) / 3;
  }
}

const CCI = featureIndex("cci_20");

/** CCI(20) on the typical price; zero mean deviation gives 0. Fills ws.tp. */
export function computeCci(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const period = 20;
  const n = s.length;
  const tp = ws.tp;
  const high = s.high;
  const low = s.low;
  const close = s.close;
  const first = Math.min(n, period - 1);
  for (let i = 0; i < first; i++) tp[i] = (high[i] + low[i] + close[i]) / 3;
  const cci = CCI * n;
  for (let i = period - 1; i < n; i++) {
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
export function computeWaveTrend(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const tp = ws.tp;
  const wt1 = WT1 * n;
  const wt2 = WT2 * n;
  // The seeded warm-up runs as separate EMA passes; the rest continues the three EMAs in one loop.
  const warm = Math.min(n, 42);
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
  if (warm === n) return;
  const channelAlpha = 2 / (10 + 1);
  const channelKeep = 1 - channelAlpha;
  const averageAlpha = 2 / (21 + 1);
  const averageKeep = 1 - averageAlpha;
  let esaEma = esa[warm - 1];
  let devEma = dev[warm - 1];
  let tciEma = tci[warm - 1];
  let back1 = tci[warm - 1];
  let back2 = tci[warm - 2];
  let back3 = tci[warm - 3];
  for (let i = warm; i < n; i++) {
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
}

const MFI = featureIndex("mfi_14");

/** Money Flow Index(14): candles whose typical price is unchanged count on neither side; no flow = 50. Needs ws.tp. */
export function computeMfi(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const period = 14;
  const n = s.length;
  const tp = ws.tp;
  const volume = s.volume;
  const [positive, negative, positiveSum, negativeSum] = ws.tmp;
  for (let i = 1; i < n; i++) {
    const flow = tp[i] * volume[i];
    // Branch-free select: flow >= 0, so flow * 0 is +0 like the 0 it replaces.
    positive[i] = flow * Number(tp[i] > tp[i - 1]);
    negative[i] = flow * Number(tp[i] < tp[i - 1]);
  }
  rollingSumInto(positive, 1, period, n, positiveSum);
  rollingSumInto(negative, 1, period, n, negativeSum);
  for (let i = period; i < n; i++) {
    const total = positiveSum[i] + negativeSum[i];
    m[MFI * n + i] = total === 0 ? 50 : (100 * positiveSum[i]) / total;
  }
}

const EFFICIENCY = featureIndex("efficiency_ratio_10");

/** Kaufman efficiency ratio(10): |net change| / sum of |changes|; no movement = 0. */
export function computeEfficiencyRatio(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const period = 10;
  const n = s.length;
  if (period >= n) return;
  const close = s.close;
  const path = ws.tmp[0];
  for (let i = 1; i <= period; i++) {
    path[i] = Math.abs(close[i] - close[i - 1]);
  }
  // The path-length window sum (rollingSumInto's step) runs inside the output loop.
  startWindowSum(path, 1, period);
  let sum = windowSum[0];
  let error = windowSum[1];
  let nonZero = windowSum[2];
  const efficiency = EFFICIENCY * n;
  m[efficiency + period] = ratioOrZero(Math.abs(close[period] - close[0]), sum + error);
  for (let i = period + 1, leaving = 1; i < n; i++, leaving++) {
    const c = close[i];
    const x = Math.abs(c - close[i - 1]);
    path[i] = x;
    const y = -path[leaving];
    nonZero += Number(x !== 0) - Number(y !== 0);
    let t = sum + x;
    let z = t - sum;
    error += sum - (t - z) + (x - z);
    sum = t;
    t = sum + y;
    z = t - sum;
    error += sum - (t - z) + (y - z);
    sum = t;
    if (nonZero === 0) {
      sum = 0;
      error = 0;
    }
    m[efficiency + i] = ratioOrZero(Math.abs(c - close[i - period]), sum + error);
  }
}

function ratioOrZero(net: number, pathLength: number): number {
  return pathLength === 0 ? 0 : net / pathLength;
}
