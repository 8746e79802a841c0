/**
 * npm run evaluate -- --model <file.onnx> --candles <dir> [--card <card.json>] [--from ISO] [--to ISO]
 *                     [--symbols BTC-USDT,ETH-USDT] [--json out.json]
 * Scores a model on a folder of <BASE>-<QUOTE>_<granularity>.csv candles with the label definition,
 * granularity and decision thresholds from its model card. Without --from it scores from the first
 * candle the card says the model has not seen; a window that overlaps its training or selection
 * period is marked IN-SAMPLE (backtest/windows.ts, as the backtest does).
 */
import { writeFile } from "node:fs/promises";
import {
  checkOrder,
  inSampleBanner,
  inSampleWarning,
  iso,
  seenMarketOf,
  WindowError,
} from "#backtest/windows.js";
import { COMMON_HELP, type OptionValues, runCommand, UsageError } from "#local/cli.js";
import { cardPathFor } from "#model/card.js";
import { loadSignalModel } from "#model/runtime.js";
import { evaluateOnCandles } from "#training/evaluate-candles.js";
import { formatMetrics } from "#training/report.js";

const usage =
  "usage: npm run evaluate -- --model <file.onnx> --candles <dir> [--card <card.json>] [--from ISO] [--to ISO] [--symbols A-B,C-D] [--json out.json]\n" +
  "Rows whose candle opened in [--from, --to); without --from, from the first candle the model's card says it has not seen. A window that overlaps its training or selection period is marked IN-SAMPLE.\n" +
  `${COMMON_HELP}`;

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw new UsageError(
      `--${flag} ${value} is not an ISO date or time (e.g. 2024-01-01 or 2024-01-01T00:00:00Z)`,
    );
  return ms / 1000;
}

const OPTIONS = {
  model: { type: "string" },
  card: { type: "string" },
  candles: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  symbols: { type: "string" },
  json: { type: "string" },
} as const;

async function evaluate(values: OptionValues<typeof OPTIONS>): Promise<void> {
  if (!values.model || !values.candles) {
    const missing = (["model", "candles"] as const).filter((flag) => !values[flag]);
    throw new UsageError(
      `${missing.map((f) => `--${f}`).join(" and ")} ${missing.length > 1 ? "are" : "is"} required, such as --model models/signal-model.onnx --candles data/replay`,
    );
  }
  const given = { from: parseTime("from", values.from), to: parseTime("to", values.to) };
  checkOrder(given.from, given.to);
  const cardPath = values.card ?? cardPathFor(values.model);
  const model = await loadSignalModel(values.model, cardPath);
  const card = model.card!;
  const seen = seenMarketOf(card);
  const from = given.from ?? seen.seen.toSec;
  const to = given.to;
  let evaluation: Awaited<ReturnType<typeof evaluateOnCandles>>;
  try {
    evaluation = await evaluateOnCandles({
      model,
      candleDir: values.candles,
      granularity: card.data.granularity,
      label: card.label,
      window: { from, to },
      thresholds: card.decisionThresholds,
      symbols: values.symbols?.split(",").map((s) => s.trim()),
    });
  } catch (error) {
    // evaluateOnCandles found no row: say which window that was and why it starts where it does
    if (error instanceof Error && error.message.startsWith("no labelled rows")) {
      const window = `[${iso(from)}, ${to === undefined ? "the end of the data" : iso(to)})`;
      const why =
        given.from === undefined
          ? `without --from it starts at ${iso(seen.seen.toSec)}, the first candle the model has not seen; give --from to score earlier candles (they will be marked IN-SAMPLE)`
          : "choose --from and --to inside the candles' span";
      throw new WindowError(`${error.message}. The window was ${window}: ${why}.`);
    }
    throw error;
  } finally {
    await model.release();
  }
  // the rows scored, as a span of candle open times
  const scored = {
    fromSec: evaluation.firstStart,
    toSec: evaluation.lastStart + card.label.granularitySeconds,
  };
  const inSample = inSampleWarning(scored, seen);
  if (inSample) console.log(`${inSampleBanner(inSample)}\n`);
  console.log(`${model.name} ${model.version} on ${values.candles} (${card.data.granularity})`);
  console.log(
    `window: rows opened in [${iso(from)}, ${to === undefined ? "the end of the data" : iso(to)}) (${given.from === undefined ? "default: the first candle the model has not seen" : "--from"}); ${inSample ? `IN-SAMPLE (${(inSample.share * 100).toFixed(1)}% of the rows' span)` : `out of sample (the model has not seen candles from ${iso(seen.seen.toSec)} on)`}`,
  );
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
      window: {
        from: values.from ?? null,
        to: values.to ?? null,
        effectiveFrom: iso(from),
        fromChosen: given.from === undefined ? "after the model's fitted data" : "given",
        firstUnseen: iso(seen.seen.toSec),
        inSample: inSample ?? null,
      },
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

await runCommand({ name: "npm run evaluate", usage, options: OPTIONS }, ({ values }) => evaluate(values));
