import type { SignalType } from "#domain/schemas.js";

export { DEFAULT_DECISION_THRESHOLDS } from "#defaults";

export interface ClassProbabilities {
  down: number;
  hold: number;
  up: number;
}

export interface DecisionThresholds {
  /** BUY when P(up) is strictly above this */
  buy: number;
  /** SELL when P(down) is strictly above this */
  sell: number;
}

export interface SignalDecision {
  signalType: SignalType;
  /** probability of the chosen class (for HOLD: P(hold)) */
  confidence: number;
  /** the threshold the chosen class had to beat; 0 for HOLD, which has none */
  threshold: number;
}

/**
 * BUY when P(up) > buy, SELL when P(down) > sell, otherwise HOLD.
 * With thresholds whose sum is >= 1 (the defaults: 0.5 + 0.6) both cannot hold at once. With lower
 * thresholds they can; then the side with the larger probability wins, and an exact tie is HOLD
 * because the model has no preferred direction.
 */
export function decideSignal(p: ClassProbabilities, thresholds: DecisionThresholds): SignalDecision {
  // three named checks, not a loop over Object.entries: the backtest decides every candidate row
  checkProbability("down", p.down);
  checkProbability("hold", p.hold);
  checkProbability("up", p.up);
  const buys = p.up > thresholds.buy;
  const sells = p.down > thresholds.sell;
  if (buys && (!sells || p.up > p.down)) {
    return { signalType: "BUY", confidence: p.up, threshold: thresholds.buy };
  }
  if (sells && (!buys || p.down > p.up)) {
    return { signalType: "SELL", confidence: p.down, threshold: thresholds.sell };
  }
  return { signalType: "HOLD", confidence: p.hold, threshold: 0 };
}

function checkProbability(name: keyof ClassProbabilities, value: number): void {
  if (!(value >= 0 && value <= 1))
    throw new RangeError(`decideSignal: P(${name}) must be a probability in [0, 1], got ${value}`);
}
