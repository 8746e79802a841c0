import { featureIndex } from "./names.js";
import { emaInto, rollingSumChunk } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import { CHUNK_ROWS, type Workspace } from "./workspace.js";

const ATR = featureIndex("atr_pct_14");
const ADX = featureIndex("adx_14");
const PLUS_DI = featureIndex("plus_di_14");
const MINUS_DI = featureIndex("minus_di_14");

/**
 * ATR(14) / close and ADX(14) with +DI / -DI, all Wilder-smoothed and seeded with the mean of their
 * first 14 inputs. True range of the first candle is high - low. Zero ATR gives DI 0; DI sum 0 gives DX 0.
 */
export function computeAtrAdx(s: OhlcvSeries, ws: Workspace): void {
  const period = 14;
  const { from, to, chunk: m } = ws;
  const { high, low, close } = s;
  const factor = 1 / period;
  const atrCol = ATR * CHUNK_ROWS - from;
  const plusCol = PLUS_DI * CHUNK_ROWS - from;
  const minusCol = MINUS_DI * CHUNK_ROWS - from;
  const adxCol = ADX * CHUNK_ROWS - from;
  // One pass carries the four Wilder averages; each is seeded, as before, with the plain sum of its
  // first 14 inputs (ATR from row 0, the DMs from row 1, DX from row 14) divided by 14.
  let atr = atrAdxState[0];
  let plusSmooth = atrAdxState[1];
  let minusSmooth = atrAdxState[2];
  let adx = atrAdxState[3];
  let start = from;
  if (from === 0) {
    let trSum = 0;
    let plusSum = 0;
    let minusSum = 0;
    let dxSum = 0;
    trSum += high[0] - low[0];
    const warm = Math.min(to, 2 * period);
    start = warm;
    for (let i = 1; i < warm; i++) {
      const tr = trueRange(high[i], low[i], close[i - 1]);
      const up = high[i] - high[i - 1];
      const down = low[i - 1] - low[i];
      const plusDm = directionalMove(up, down);
      const minusDm = directionalMove(down, up);
      if (i > period - 1) {
        atr = (tr - atr) * factor + atr;
      } else {
        trSum += tr;
        if (i < period - 1) {
          plusSum += plusDm;
          minusSum += minusDm;
          continue;
        }
        atr = trSum / period;
      }
      m[atrCol + i] = atr / close[i];
      if (i > period) {
        plusSmooth = (plusDm - plusSmooth) * factor + plusSmooth;
        minusSmooth = (minusDm - minusSmooth) * factor + minusSmooth;
      } else {
        plusSum += plusDm;
        minusSum += minusDm;
        if (i < period) continue;
        plusSmooth = plusSum / period;
        minusSmooth = minusSum / period;
      }
      const plus = directionalIndex(plusSmooth, atr);
      const minus = directionalIndex(minusSmooth, atr);
      m[plusCol + i] = plus;
      m[minusCol + i] = minus;
      const dx = directionalMovementIndex(plus, minus);
      if (i > 2 * period - 1) {
        adx = (dx - adx) * factor + adx;
      } else {
        dxSum += dx;
        if (i < 2 * period - 1) continue;
        adx = dxSum / period;
      }
      m[adxCol + i] = adx;
    }
  }
  for (let i = start; i < to; i++) {
    const tr = trueRange(high[i], low[i], close[i - 1]);
    const up = high[i] - high[i - 1];
    const down = low[i - 1] - low[i];
    const plusDm = directionalMove(up, down);
    const minusDm = directionalMove(down, up);
    atr = (tr - atr) * factor + atr;
    m[atrCol + i] = atr / close[i];
    plusSmooth = (plusDm - plusSmooth) * factor + plusSmooth;
    minusSmooth = (minusDm - minusSmooth) * factor + minusSmooth;
    const plus = directionalIndex(plusSmooth, atr);
    const minus = directionalIndex(minusSmooth, atr);
    m[plusCol + i] = plus;
    m[minusCol + i] = minus;
    const dx = directionalMovementIndex(plus, minus);
    adx = (dx - adx) * factor + adx;
    m[adxCol + i] = adx;
  }
  atrAdxState[0] = atr;
  atrAdxState[1] = plusSmooth;
  atrAdxState[2] = minusSmooth;
  atrAdxState[3] = adx;
}

const atrAdxState = new Float64Array(4);

// Branch-free selects (the comparisons are unpredictable): x * 1 + 0 is x and x * 0 + 0 is +0 for the
// non-negative finite ranges here, and a - b == -(b - a) exactly, so Math.abs matches the old ternaries.

/** max(high - low, |high - prevClose|, |low - prevClose|). */
function trueRange(h: number, l: number, prevClose: number): number {
  let tr = h - l;
  const a = Math.abs(h - prevClose);
  const b = Math.abs(l - prevClose);
  let pick = Number(a > tr);
  tr = a * pick + tr * (1 - pick);
  pick = Number(b > tr);
  return b * pick + tr * (1 - pick);
}

/** +DI or -DI: the smoothed directional movement as a percentage of ATR (0 when ATR is 0). */
function directionalIndex(smoothedMove: number, atr: number): number {
  return atr === 0 ? 0 : (100 * smoothedMove) / atr;
}

/** DX: |+DI - -DI| as a percentage of their sum (0 when both are 0). */
function directionalMovementIndex(plus: number, minus: number): number {
  const sum = plus + minus;
  return sum === 0 ? 0 : (100 * Math.abs(plus - minus)) / sum;
}

/** Wilder's directional movement: `move` when it is positive and larger than `other`, else +0. */
function directionalMove(move: number, other: number): number {
  return move * (Number(move > other) * Number(move > 0)) + 0;
}

const EMA_9 = featureIndex("ema_dist_9");
const EMA_21 = featureIndex("ema_dist_21");
const EMA_CROSS = featureIndex("ema_cross_9_21");
const SMA_50 = featureIndex("sma_dist_50");
const SMA_200 = featureIndex("sma_dist_200");

/** Relative distance of close to EMA(9), EMA(21), SMA(50), SMA(200), and EMA(9) to EMA(21). */
export function computeAverageDistances(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const [ema9, ema21, sum50, sum200] = ws.tmp;
  rollingSumChunk(close, 0, 50, from, to, sum50, averageState, 2);
  rollingSumChunk(close, 0, 200, from, to, sum200, averageState, 5);
  const ema9Col = EMA_9 * CHUNK_ROWS - from;
  const ema21Col = EMA_21 * CHUNK_ROWS - from;
  const crossCol = EMA_CROSS * CHUNK_ROWS - from;
  const sma50Col = SMA_50 * CHUNK_ROWS - from;
  const sma200Col = SMA_200 * CHUNK_ROWS - from;
  // The seeded warm-up (chunk 0) runs as separate EMA passes; the rest continues both EMAs in the output loop.
  let start = from;
  if (from === 0) {
    const warm = Math.min(to, 21);
    emaInto(close, 0, 9, warm, ema9);
    emaInto(close, 0, 21, warm, ema21);
    for (let i = 8; i < warm; i++) {
      const c = close[i];
      const fast = ema9[i];
      m[ema9Col + i] = (c - fast) / fast;
      if (i < 20) continue;
      const slow = ema21[i];
      m[ema21Col + i] = (c - slow) / slow;
      m[crossCol + i] = (fast - slow) / slow;
    }
    if (warm === to) return;
    averageState[0] = ema9[warm - 1];
    averageState[1] = ema21[warm - 1];
    start = warm;
  }
  const fastAlpha = 2 / (9 + 1);
  const fastKeep = 1 - fastAlpha;
  const slowAlpha = 2 / (21 + 1);
  const slowKeep = 1 - slowAlpha;
  let fast = averageState[0];
  let slow = averageState[1];
  for (let i = start; i < to; i++) {
    const c = close[i];
    fast = c * fastAlpha + fast * fastKeep;
    slow = c * slowAlpha + slow * slowKeep;
    m[ema9Col + i] = (c - fast) / fast;
    m[ema21Col + i] = (c - slow) / slow;
    m[crossCol + i] = (fast - slow) / slow;
    if (i < 49) continue;
    const sma50 = sum50[i - from] / 50;
    m[sma50Col + i] = (c - sma50) / sma50;
    if (i < 199) continue;
    const sma200 = sum200[i - from] / 200;
    m[sma200Col + i] = (c - sma200) / sma200;
  }
  averageState[0] = fast;
  averageState[1] = slow;
}

/** [EMA 9, EMA 21, 50-candle window sum state (3), 200-candle window sum state (3)] */
const averageState = new Float64Array(8);
