import { CLASS_NAMES } from "#model/labels.js";
import type { ClassificationMetrics } from "#model/metrics.js";

const pct = (v: number | null): string => (v === null ? "-" : `${(100 * v).toFixed(2)}%`);
const num = (v: number | null, digits = 4): string => (v === null ? "-" : v.toFixed(digits));

/** Plain-text tables of a ClassificationMetrics, for the console. */
export function formatMetrics(m: ClassificationMetrics): string {
  const lines: string[] = [];
  lines.push(`rows ${m.rows}   accuracy ${pct(m.accuracy)}   log loss ${num(m.logLoss, 5)}`);
  lines.push("");
  lines.push("class   support  balance  predicted  precision  recall");
  for (const c of CLASS_NAMES) {
    const s = m.perClass[c];
    lines.push(
      `${c.padEnd(6)} ${String(s.support).padStart(8)} ${pct(m.classBalance[c]).padStart(8)} ${String(s.predicted).padStart(10)} ${pct(s.precision).padStart(10)} ${pct(s.recall).padStart(7)}`,
    );
  }
  lines.push("");
  lines.push("confusion (rows = label, columns = argmax prediction: DOWN HOLD UP)");
  CLASS_NAMES.forEach((c, i) => {
    lines.push(`${c.padEnd(6)} ${m.confusion[i].map((v) => String(v).padStart(8)).join(" ")}`);
  });
  lines.push("");
  const t = m.signals.thresholds;
  lines.push(`signals (BUY if P(up) > ${t.buy}, SELL if P(down) > ${t.sell})`);
  for (const s of ["BUY", "SELL", "HOLD"] as const) {
    const v = m.signals[s];
    lines.push(
      `${s.padEnd(5)} count ${String(v.count).padStart(7)}  rate ${pct(v.rate).padStart(7)}  hit ${pct(v.hitRate).padStart(7)}  wrong-way ${pct(v.wrongWayRate).padStart(7)}`,
    );
  }
  lines.push("");
  lines.push("calibration: bin -> rows, mean predicted, observed frequency");
  for (const c of ["UP", "DOWN"] as const) {
    lines.push(`P(${c})`);
    for (const b of m.calibration[c]) {
      if (b.count === 0) continue;
      lines.push(
        `  [${b.from.toFixed(1)}, ${b.to.toFixed(1)})  ${String(b.count).padStart(7)}  ${num(b.meanPredicted, 3)}  ${num(b.observed, 3)}`,
      );
    }
  }
  return lines.join("\n");
}

/** The same metrics as Markdown, for MODEL_CARD.md. */
export function metricsMarkdown(m: ClassificationMetrics): string {
  const out: string[] = [];
  out.push(
    `Rows: ${m.rows}. Accuracy (argmax): **${pct(m.accuracy)}**. Multi-class log loss: **${num(m.logLoss, 5)}**.`,
  );
  out.push("");
  out.push("| class | support | share | predicted (argmax) | precision | recall |");
  out.push("|---|---:|---:|---:|---:|---:|");
  for (const c of CLASS_NAMES) {
    const s = m.perClass[c];
    out.push(
      `| ${c} | ${s.support} | ${pct(m.classBalance[c])} | ${s.predicted} | ${pct(s.precision)} | ${pct(s.recall)} |`,
    );
  }
  out.push("");
  out.push("Confusion matrix (rows: label, columns: argmax prediction):");
  out.push("");
  out.push("| label \\ predicted | DOWN | HOLD | UP |");
  out.push("|---|---:|---:|---:|");
  CLASS_NAMES.forEach((c, i) => {
    out.push(`| ${c} | ${m.confusion[i].join(" | ")} |`);
  });
  out.push("");
  const t = m.signals.thresholds;
  out.push(`Signals with the decision thresholds (BUY if P(up) > ${t.buy}, SELL if P(down) > ${t.sell}):`);
  out.push("");
  out.push("| signal | count | share of rows | hit rate | wrong-way rate |");
  out.push("|---|---:|---:|---:|---:|");
  for (const s of ["BUY", "SELL", "HOLD"] as const) {
    const v = m.signals[s];
    out.push(`| ${s} | ${v.count} | ${pct(v.rate)} | ${pct(v.hitRate)} | ${pct(v.wrongWayRate)} |`);
  }
  out.push("");
  out.push(
    "Hit rate: BUY rows labelled UP, SELL rows labelled DOWN, HOLD rows labelled HOLD. Wrong-way: BUY rows labelled DOWN, SELL rows labelled UP.",
  );
  out.push("");
  out.push("Calibration (predicted-probability bins vs observed frequency of the class):");
  out.push("");
  out.push("| bin | P(UP) rows | mean P(UP) | observed UP | P(DOWN) rows | mean P(DOWN) | observed DOWN |");
  out.push("|---|---:|---:|---:|---:|---:|---:|");
  m.calibration.UP.forEach((up, b) => {
    const down = m.calibration.DOWN[b];
    if (up.count === 0 && down.count === 0) return;
    out.push(
      `| [${up.from.toFixed(1)}, ${up.to.toFixed(1)}) | ${up.count} | ${num(up.meanPredicted, 3)} | ${num(up.observed, 3)} | ${down.count} | ${num(down.meanPredicted, 3)} | ${num(down.observed, 3)} |`,
    );
  });
  return out.join("\n");
}
