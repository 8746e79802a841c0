/**
 * A deterministic candle series: every bucket is a pure function of (seed, product, bucket
 * start), so any window can be served without storing history, and pages always agree.
 */
import type { OhlcvCandleLike } from "#features/series.js";

function hash32(a: number, b: number, c: number): number {
  let h = (a ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (b >>> 0), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ (c >>> 0), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h ^ (Math.floor(b / 4294967296) | 0), 0x27d4eb2f) >>> 0;
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

export function stringHash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export type SeriesCandle = OhlcvCandleLike;

export function closeAt(
  seed: number,
  productHash: number,
  basePrice: number,
  start: number,
  step: number,
): number {
  const cycle = Math.sin((2 * Math.PI * start) / (step * 48));
  const noise = hash32(seed, start, productHash) - 0.5;
  return basePrice * (1 + 0.03 * cycle + 0.01 * noise);
}

export function seriesCandle(
  seed: number,
  productId: string,
  basePrice: number,
  start: number,
  step: number,
): SeriesCandle {
  const ph = stringHash(productId);
  const open = closeAt(seed, ph, basePrice, start - step, step);
  const close = closeAt(seed, ph, basePrice, start, step);
  const high = Math.max(open, close) * (1 + 0.003 * hash32(seed + 1, start, ph));
  const low = Math.min(open, close) * (1 - 0.003 * hash32(seed + 2, start, ph));
  const volume = 1 + 100 * hash32(seed + 3, start, ph);
  return { start, open, high, low, close, volume };
}

/** Coinbase-style decimal strings with a sensible number of digits for the price level. */
export function priceString(value: number): string {
  const digits = value >= 100 ? 2 : value >= 1 ? 4 : 8;
  return value.toFixed(digits);
}
