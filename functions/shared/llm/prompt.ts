/**
 * The validation prompt. It is deterministic (same recommendation, signal and candles give the
 * same text) so that with temperature 0 and a fixed seed a validation can be reproduced, and
 * compact so it fits a small model's context with room for the answer.
 */
import type { Candle, Recommendation, Signal } from "#domain/schemas.js";

/** Bump on ANY change to the wording or content of the prompt: it is stored with every validation. */
export const PROMPT_VERSION = "trade-validation-v1";

/** How many of the most recent candles the prompt summarizes. */
export const CANDLE_SUMMARY_WINDOW = 24;
const LAST_CLOSES_SHOWN = 6;

export interface ValidationPromptInput {
  recommendation: Recommendation;
  signal: Signal;
  /** candles up to the signal's candle, oldest first; only the last CANDLE_SUMMARY_WINDOW are used */
  recentCandles: readonly Candle[];
}

export interface ValidationPrompt {
  system: string;
  user: string;
  promptVersion: string;
}

export interface CandleSummary {
  count: number;
  firstStart: number;
  lastStart: number;
  changePct: number;
  high: number;
  low: number;
  rangePct: number;
  /** sample standard deviation of close-to-close log returns, in percent per candle */
  realizedVolPct: number | undefined;
  lastCloses: number[];
}

const SYSTEM_PROMPT = [
  "You are the risk-aware reviewer of an automated crypto trading system.",
  "A machine-learning model proposed a trade. Decide whether it should go ahead.",
  "APPROVE only when the signal, its key features and the recent price action agree.",
  "REJECT when they contradict each other, when the signal is weak for the current regime, or when volatility makes the trade reckless.",
  "Risk sizing is done later by a separate risk manager; judge the trade idea, not the amount.",
  "Answer with a single JSON object and nothing else:",
  '{"decision":"APPROVE"|"REJECT","confidence":number between 0 and 1,"reasoning":string of at most 3 sentences,' +
    '"risk_assessment":{"level":"LOW"|"MEDIUM"|"HIGH","factors":[short phrases]}}',
].join("\n");

export function buildValidationPrompt(input: ValidationPromptInput): ValidationPrompt {
  const { recommendation: rec, signal } = input;
  const lines: string[] = [];

  lines.push("Trade recommendation:");
  lines.push(`- symbol: ${rec.symbol}`);
  lines.push(`- side: ${rec.side}`);
  lines.push(`- amount_usd: ${rec.amountUsd.toFixed(2)}`);
  lines.push(`- entry_price: ${formatPrice(rec.entryPrice)}`);
  if (rec.stopLoss !== undefined) lines.push(`- stop_loss: ${formatPrice(rec.stopLoss)}`);
  if (rec.takeProfit !== undefined) lines.push(`- take_profit: ${formatPrice(rec.takeProfit)}`);

  lines.push("");
  lines.push("ML signal:");
  lines.push(`- type: ${signal.signalType}`);
  lines.push(`- model: ${signal.model} version ${signal.modelVersion}`);
  lines.push(`- candle: ${signal.granularity} opening ${isoOf(signal.candleStart)}`);
  lines.push(`- confidence: ${signal.confidence.toFixed(3)} (threshold ${signal.threshold.toFixed(3)})`);
  const p = signal.probabilities;
  lines.push(`- probabilities: down ${p.down.toFixed(3)}, hold ${p.hold.toFixed(3)}, up ${p.up.toFixed(3)}`);
  lines.push(`- regime: ${signal.regime}`);

  lines.push("");
  lines.push("Key features:");
  const featureNames = Object.keys(signal.keyFeatures).sort();
  if (featureNames.length === 0) lines.push("- none recorded");
  for (const name of featureNames) lines.push(`- ${name}: ${formatSignificant(signal.keyFeatures[name], 4)}`);

  lines.push("");
  const summary = summarizeCandles(input.recentCandles);
  if (summary === undefined) {
    lines.push("Recent price action: no candles available.");
  } else {
    lines.push(
      `Recent price action (last ${summary.count} ${signal.granularity} candles, ` +
        `${isoOf(summary.firstStart)} to ${isoOf(summary.lastStart)}):`,
    );
    lines.push(`- change: ${formatSignedPct(summary.changePct)}`);
    lines.push(
      `- range: low ${formatPrice(summary.low)}, high ${formatPrice(summary.high)} ` +
        `(${summary.rangePct.toFixed(2)}% of last close)`,
    );
    lines.push(
      summary.realizedVolPct === undefined
        ? "- realized volatility: not enough candles"
        : `- realized volatility: ${summary.realizedVolPct.toFixed(2)}% per candle`,
    );
    lines.push(
      `- last ${summary.lastCloses.length} closes, oldest first: ${summary.lastCloses.map(formatPrice).join(", ")}`,
    );
  }

  lines.push("");
  lines.push(`Should this ${rec.side} of ${rec.symbol} be executed? Answer with the JSON object only.`);

  return { system: SYSTEM_PROMPT, user: lines.join("\n"), promptVersion: PROMPT_VERSION };
}

/** Summarizes the last CANDLE_SUMMARY_WINDOW candles; undefined when there are none. */
export function summarizeCandles(candles: readonly Candle[]): CandleSummary | undefined {
  const window = [...candles].sort((a, b) => a.start - b.start).slice(-CANDLE_SUMMARY_WINDOW);
  if (window.length === 0) return undefined;
  const closes = window.map((c) => c.close);
  const first = closes[0];
  const last = closes[closes.length - 1];
  const high = Math.max(...window.map((c) => c.high));
  const low = Math.min(...window.map((c) => c.low));
  return {
    count: window.length,
    firstStart: window[0].start,
    lastStart: window[window.length - 1].start,
    changePct: (last / first - 1) * 100,
    high,
    low,
    rangePct: ((high - low) / last) * 100,
    realizedVolPct: realizedVolatilityPct(closes),
    lastCloses: closes.slice(-LAST_CLOSES_SHOWN),
  };
}

function realizedVolatilityPct(closes: readonly number[]): number | undefined {
  // A standard deviation of fewer than two returns says nothing.
  if (closes.length < 3) return undefined;
  const returns = closes.slice(1).map((c, i) => Math.log(c / closes[i]));
  const mean = returns.reduce((s, r) => s + r, 0) / returns.length;
  const variance = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (returns.length - 1);
  return Math.sqrt(variance) * 100;
}

/** Six significant digits keep both BTC (64250.5) and small-cap prices (0.0012345) readable. */
function formatPrice(value: number): string {
  return formatSignificant(value, 6);
}

function formatSignificant(value: number, digits: number): string {
  if (value === 0) return "0";
  return String(Number(value.toPrecision(digits)));
}

function formatSignedPct(value: number): string {
  const rounded = value.toFixed(2);
  return `${value > 0 ? "+" : ""}${rounded === "-0.00" ? "0.00" : rounded}%`;
}

function isoOf(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}
