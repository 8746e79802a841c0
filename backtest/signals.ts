/**
 * The model's probabilities of a whole series turned into the signals the live chain acts on, once,
 * before the replay loop: the loop then only walks a short sorted list per symbol. A BUY acts when
 * the bridge makes it a recommendation (becomesRecommendation); a SELL, whatever its confidence,
 * because the position manager exits on any SELL signal of a held symbol (manage-positions.ts).
 */

import { SERVING_WINDOW } from "#features/index.js";
import { type DecisionThresholds, decideSignal } from "#model/index.js";
import { becomesRecommendation } from "#steps/signal-bridge.js";

export const SIDE_BUY = 1;
export const SIDE_SELL = 2;

/** Rows (candle indexes) whose signal becomes a recommendation (BUY) or an exit signal (SELL), ascending. */
export interface ActionableSignals {
  row: Int32Array;
  /** SIDE_BUY or SIDE_SELL */
  side: Uint8Array;
  confidence: Float64Array;
  count: number;
}

/** Live scores a symbol only with a full serving window of closed candles stored. */
export function firstScorableRow(): number {
  return SERVING_WINDOW - 1;
}

/**
 * The rows of [from, to) whose up probability is over `buy` or down probability over `sell`, into
 * `out`; their count. A function of its own: V8 optimises this loop once for every series, where
 * inside actionableSignals the code after it, not run yet, threw the optimised loop away each call.
 */
function rowsOverThreshold(
  probabilities: Float32Array,
  from: number,
  to: number,
  buy: number,
  sell: number,
  out: Int32Array,
): number {
  let found = 0;
  for (let i = from; i < to; i++) {
    if (probabilities[i * 3 + 2] > buy || probabilities[i * 3] > sell) out[found++] = i;
  }
  return found;
}

/**
 * `probabilities` is rows x [down, hold, up] as the model returns them (float32). Rows before the
 * serving window, and NaN rows, are never signals. Only rows [fromRow, rowCount) are read.
 */
export function actionableSignals(
  probabilities: Float32Array,
  rowCount: number,
  thresholds: DecisionThresholds,
  minConfidence: number,
  fromRow = 0,
): ActionableSignals {
  // a tight first pass finds the rows where one class clears its threshold (decideSignal answers
  // HOLD for every other row, so skipping them cannot change a decision); only those few go through
  // decideSignal and becomesRecommendation
  const from = Math.max(fromRow, firstScorableRow());
  const candidates = new Int32Array(Math.max(0, rowCount - from));
  const found = rowsOverThreshold(probabilities, from, rowCount, thresholds.buy, thresholds.sell, candidates);
  const rows: number[] = [];
  const sides: number[] = [];
  const confidences: number[] = [];
  for (let k = 0; k < found; k++) {
    const i = candidates[k];
    const decision = decideSignal(
      { down: probabilities[i * 3], hold: probabilities[i * 3 + 1], up: probabilities[i * 3 + 2] },
      thresholds,
    );
    if (decision.signalType === "HOLD") continue;
    if (decision.signalType === "BUY" && !becomesRecommendation(decision, minConfidence)) continue;
    rows.push(i);
    sides.push(decision.signalType === "BUY" ? SIDE_BUY : SIDE_SELL);
    confidences.push(decision.confidence);
  }
  return {
    row: Int32Array.from(rows),
    side: Uint8Array.from(sides),
    confidence: Float64Array.from(confidences),
    count: rows.length,
  };
}
