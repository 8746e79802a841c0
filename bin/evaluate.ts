/**
 * npm run evaluate -- --model <file.onnx> --candles <dir> [--card <card.json>] [--from ISO] [--to ISO]
 *                     [--symbols BTC-USDT,ETH-USDT] [--json out.json]
 * Scores a model on a folder of <BASE>-<QUOTE>_<granularity>.csv candles with the label definition,
 * granularity and decision thresholds from its model card.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { cardPathFor } from "#model/card.js";
import { loadSignalModel } from "#model/runtime.js";
import { evaluateOnCandles } from "#training/evaluate-candles.js";
import { formatMetrics } from "#training/report.js";

const usage =
  "usage: npm run evaluate -- --model <file.onnx> --candles <dir> [--card <card.json>] [--from ISO] [--to ISO] [--symbols A-B,C-D] [--json out.json]";

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw new Error(
      `--${flag} ${value} is not an ISO date or time (e.g. 2024-01-01 or 2024-01-01T00:00:00Z)`,
    );
  return ms / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      card: { type: "string" },
      candles: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      symbols: { type: "string" },
      json: { type: "string" },
    },
  });
  if (!values.model || !values.candles) throw new Error(`--model and --candles are required\n${usage}`);
  const cardPath = values.card ?? cardPathFor(values.model);
  const model = await loadSignalModel(values.model, cardPath);
  const card = model.card!;
  const from = parseTime("from", values.from);
  const to = parseTime("to", values.to);
  const evaluation = await evaluateOnCandles({
    model,
    candleDir: values.candles,
    granularity: card.data.granularity,
    label: card.label,
    window: { from, to },
    thresholds: card.decisionThresholds,
    symbols: values.symbols?.split(",").map((s) => s.trim()),
  });
  await model.release();
  const iso = (t: number) => new Date(t * 1000).toISOString();
  console.log(`${model.name} ${model.version} on ${values.candles} (${card.data.granularity})`);
  console.log(
    `rows from ${iso(evaluation.firstStart)} to ${iso(evaluation.lastStart)}, ${evaluation.symbols.length} symbols`,
  );
  console.log(
    `label: ${card.label.horizonCandles} candles ahead, UP > ${card.label.upReturn}, DOWN < ${card.label.downReturn}\n`,
  );
  console.log(formatMetrics(evaluation.metrics));
  if (values.json) {
    const out = {
      model: { name: model.name, version: model.version, sha256: model.sha256 },
      candles: values.candles,
      window: { from: values.from ?? null, to: values.to ?? null },
      firstRow: iso(evaluation.firstStart),
      lastRow: iso(evaluation.lastStart),
      symbols: evaluation.symbols,
      label: card.label,
      metrics: evaluation.metrics,
    };
    await writeFile(values.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${values.json}`);
  }
}

main().catch((error: Error) => {
  console.error(`evaluate failed: ${error.message}`);
  process.exitCode = 1;
});
