/**
 * What the report's charts plot, from a backtest result: growth factors of the strategy and of
 * equal-weight buy-and-hold (plotted on a log axis, labelled as returns in %), both drawdowns in %,
 * and per traded symbol its closes and its fills (time, fill price, side, a formatted description).
 */
import type { BacktestTrade } from "./engine.js";
import { fixed, minuteUtc, type SymbolFormat, signedUsd, symbolFormat, usd } from "./report-format.js";
import type { BacktestResult } from "./run.js";

/** Longer curves are sampled at the last point of each day so the page stays small. */
export const MAX_POINTS = 5_000;
const DAY = 86_400;
const HOUR = 3_600;

export interface ReportMarker {
  /** the chart time of the bar the fill belongs to (the closed candle's start, or its day) */
  time: number;
  price: number;
  side: "BUY" | "SELL";
  text: string;
}

export interface ReportSymbol extends SymbolFormat {
  id: string;
  trades: number;
  /** [time, close] */
  prices: [number, number][];
  markers: ReportMarker[];
}

export interface ReportData {
  /** [cycle time, strategy growth, buy-and-hold growth]; growth = equity / starting cash */
  growth: [number, number, number][];
  /** [cycle time, strategy drawdown %, buy-and-hold drawdown %], ≤ 0 */
  drawdown: [number, number, number][];
  /** traded symbols, most traded first */
  symbols: ReportSymbol[];
}

function keepDailyOnlyIfLong(times: ArrayLike<number>): (i: number) => boolean {
  if (times.length <= MAX_POINTS) return () => true;
  return (i) => i === times.length - 1 || Math.floor(times[i] / DAY) !== Math.floor(times[i + 1] / DAY);
}

const round = (x: number, decimals: number) => Number(x.toFixed(decimals));

export function reportData(r: BacktestResult): ReportData {
  const { cycleTimes, equity, buyAndHold } = r.curves;
  const start = r.settings.startingCashUsd;
  const keep = keepDailyOnlyIfLong(cycleTimes);
  const growth: ReportData["growth"] = [];
  const drawdown: ReportData["drawdown"] = [];
  let peak = start;
  let holdPeak = start;
  for (let i = 0; i < cycleTimes.length; i++) {
    peak = Math.max(peak, equity[i]);
    holdPeak = Math.max(holdPeak, buyAndHold[i]);
    if (!keep(i)) continue;
    growth.push([cycleTimes[i], round(equity[i] / start, 7), round(buyAndHold[i] / start, 7)]);
    drawdown.push([
      cycleTimes[i],
      round((equity[i] / peak - 1) * 100, 4),
      round((buyAndHold[i] / holdPeak - 1) * 100, 4),
    ]);
  }
  const first = cycleTimes[0] ?? 0;
  const last = cycleTimes[cycleTimes.length - 1] ?? 0;
  return { growth, drawdown, symbols: tradedSymbols(r, first, last) };
}

function tradedSymbols(r: BacktestResult, firstCycle: number, lastCycle: number): ReportSymbol[] {
  const bySymbol = new Map<string, BacktestTrade[]>();
  for (const t of r.trades) bySymbol.set(t.symbol, [...(bySymbol.get(t.symbol) ?? []), t]);
  const symbols: ReportSymbol[] = [];
  for (const [id, trades] of [...bySymbol.entries()].sort((a, b) => b[1].length - a[1].length)) {
    const candles = r.market.find((m) => m.productId === id);
    if (!candles) continue;
    const format = symbolFormat(id);
    const starts: number[] = [];
    const closes: number[] = [];
    for (let i = 0; i < candles.length; i++) {
      // the candles closed by the replayed cycles (a cycle runs one minute after a close)
      const closeTime = candles.start[i] + HOUR;
      if (closeTime < firstCycle - HOUR || closeTime > lastCycle) continue;
      starts.push(candles.start[i]);
      closes.push(candles.close[i]);
    }
    const daily = starts.length > MAX_POINTS;
    const keep = keepDailyOnlyIfLong(starts);
    const barOf = (t: number) => (daily ? Math.floor(t / DAY) * DAY : t);
    const prices: [number, number][] = [];
    for (let i = 0; i < starts.length; i++)
      if (keep(i)) prices.push([barOf(starts[i]), Number(closes[i].toPrecision(10))]);
    const markers = trades
      .map((t) => ({
        // a fill at a cycle belongs to the candle that closed just before it
        time: barOf(Math.floor((Date.parse(t.time) / 1000 - 60 - HOUR) / HOUR) * HOUR),
        price: round(t.price, format.priceDecimals),
        side: t.side,
        text: tradeText(t, format),
      }))
      .sort((a, b) => a.time - b.time);
    symbols.push({ id, trades: trades.length, ...format, prices, markers });
  }
  return symbols;
}

/** "2024-03-17 06:01 SELL 3,879,921 @ 0.00002987 (TAKE_PROFIT_1) P&L +$15.20" */
export function tradeText(t: BacktestTrade, f: SymbolFormat): string {
  const pnl = t.pnlUsd !== undefined ? ` P&L ${signedUsd(t.pnlUsd)}` : "";
  const exit = t.exit ? ` (${t.exit})` : "";
  return `${minuteUtc(t.time)} ${t.side} ${fixed(t.baseSize, f.sizeDecimals)} @ ${fixed(t.price, f.priceDecimals)}${exit}, fee ${usd(t.fee)}${pnl}`;
}
