import { type DecisionThresholds, decideSignal } from "./decision.js";
import { CLASS_NAMES, type ClassName } from "./labels.js";

const CLASS_COUNT = CLASS_NAMES.length;
/** Probabilities are clipped to [EPS, 1] in the log loss so one confident miss cannot make it infinite. */
export const LOG_LOSS_EPS = 1e-15;
export const CALIBRATION_BINS = 10;

export interface ClassScore {
  /** rows labelled with this class */
  support: number;
  /** rows whose most probable class is this one */
  predicted: number;
  /** of the rows predicted as this class, the share labelled with it; null when none were predicted */
  precision: number | null;
  /** of the rows labelled with this class, the share predicted as it; null when none are labelled */
  recall: number | null;
}

export interface CalibrationBin {
  /** bin [from, to); the last bin includes 1 */
  from: number;
  to: number;
  count: number;
  /** mean predicted probability of the class in the bin */
  meanPredicted: number | null;
  /** share of the bin's rows labelled with the class */
  observed: number | null;
}

export interface SignalScore {
  count: number;
  /** share of all rows that got this signal */
  rate: number;
  /** BUY: share labelled UP; SELL: share labelled DOWN; HOLD: share labelled HOLD; null when count is 0 */
  hitRate: number | null;
  /** BUY: share labelled DOWN; SELL: share labelled UP (the costly mistakes); null for HOLD or count 0 */
  wrongWayRate: number | null;
}

export interface ClassificationMetrics {
  rows: number;
  /** share of rows whose most probable class (argmax, ties to the lower index) equals the label */
  accuracy: number;
  /** mean of -ln P(label), probabilities clipped to [1e-15, 1] */
  logLoss: number;
  /** share of rows per label */
  classBalance: Record<ClassName, number>;
  perClass: Record<ClassName, ClassScore>;
  /** confusion[actual][predicted], class order DOWN, HOLD, UP */
  confusion: number[][];
  calibration: Record<ClassName, CalibrationBin[]>;
  /** what decideSignal with the given thresholds would have done on these rows */
  signals: { thresholds: DecisionThresholds } & Record<"BUY" | "SELL" | "HOLD", SignalScore>;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/**
 * Scores probabilities (row-major rowCount x 3, DOWN/HOLD/UP) against labels (0/1/2).
 * Every number is defined in ClassificationMetrics; the same function produces the model card's
 * validation section and `npm run evaluate`.
 */
export function computeClassificationMetrics(
  probabilities: Float32Array,
  labels: Int8Array,
  rowCount: number,
  thresholds: DecisionThresholds,
): ClassificationMetrics {
  if (probabilities.length < rowCount * CLASS_COUNT || labels.length < rowCount) {
    throw new RangeError(
      `computeClassificationMetrics: need ${rowCount} rows, got ${probabilities.length / CLASS_COUNT} probability rows and ${labels.length} labels`,
    );
  }
  if (rowCount === 0) {
    throw new RangeError(
      "computeClassificationMetrics: no labelled rows to score; widen --from/--to or check the data",
    );
  }
  const confusion = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CLASS_COUNT).fill(0));
  const binCount = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CALIBRATION_BINS).fill(0));
  const binSumP = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CALIBRATION_BINS).fill(0));
  const binHits = Array.from({ length: CLASS_COUNT }, () => new Array<number>(CALIBRATION_BINS).fill(0));
  const signalCounts = { BUY: 0, SELL: 0, HOLD: 0 };
  const signalHits = { BUY: 0, SELL: 0, HOLD: 0 };
  const signalWrongWay = { BUY: 0, SELL: 0, HOLD: 0 };
  let logLossSum = 0;
  let correct = 0;

  for (let r = 0; r < rowCount; r++) {
    const label = labels[r];
    if (label < 0 || label >= CLASS_COUNT) {
      throw new RangeError(
        `computeClassificationMetrics: row ${r} has label ${label}; expected 0 (DOWN), 1 (HOLD) or 2 (UP)`,
      );
    }
    const o = r * CLASS_COUNT;
    let predicted = 0;
    for (let c = 1; c < CLASS_COUNT; c++)
      if (probabilities[o + c] > probabilities[o + predicted]) predicted = c;
    confusion[label][predicted]++;
    if (predicted === label) correct++;
    logLossSum -= Math.log(Math.min(1, Math.max(LOG_LOSS_EPS, probabilities[o + label])));
    for (let c = 0; c < CLASS_COUNT; c++) {
      const p = probabilities[o + c];
      const bin = Math.min(CALIBRATION_BINS - 1, Math.floor(p * CALIBRATION_BINS));
      binCount[c][bin]++;
      binSumP[c][bin] += p;
      if (label === c) binHits[c][bin]++;
    }
    const decision = decideSignal(
      { down: probabilities[o], hold: probabilities[o + 1], up: probabilities[o + 2] },
      thresholds,
    ).signalType;
    signalCounts[decision]++;
    const wanted = decision === "BUY" ? 2 : decision === "SELL" ? 0 : 1;
    if (label === wanted) signalHits[decision]++;
    if ((decision === "BUY" && label === 0) || (decision === "SELL" && label === 2))
      signalWrongWay[decision]++;
  }

  const perClass = {} as Record<ClassName, ClassScore>;
  const classBalance = {} as Record<ClassName, number>;
  const calibration = {} as Record<ClassName, CalibrationBin[]>;
  CLASS_NAMES.forEach((name, c) => {
    const support = confusion[c].reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    perClass[name] = {
      support,
      predicted,
      precision: ratio(confusion[c][c], predicted),
      recall: ratio(confusion[c][c], support),
    };
    classBalance[name] = support / rowCount;
    calibration[name] = binCount[c].map((count, b) => ({
      from: b / CALIBRATION_BINS,
      to: (b + 1) / CALIBRATION_BINS,
      count,
      meanPredicted: ratio(binSumP[c][b], count),
      observed: ratio(binHits[c][b], count),
    }));
  });
  const signalScore = (s: "BUY" | "SELL" | "HOLD"): SignalScore => ({
    count: signalCounts[s],
    rate: signalCounts[s] / rowCount,
    hitRate: ratio(signalHits[s], signalCounts[s]),
    wrongWayRate: s === "HOLD" ? null : ratio(signalWrongWay[s], signalCounts[s]),
  });
  return {
    rows: rowCount,
    accuracy: correct / rowCount,
    logLoss: logLossSum / rowCount,
    classBalance,
    perClass,
    confusion,
    calibration,
    signals: { thresholds, BUY: signalScore("BUY"), SELL: signalScore("SELL"), HOLD: signalScore("HOLD") },
  };
}
