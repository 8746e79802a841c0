import { spawn } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FEATURE_COUNT, FEATURE_NAMES, WARMUP_CANDLES } from "#features/index.js";
import { type ModelCard, ModelCardSchema } from "#model/card.js";
import { buildLabelledRows, type LabelledRows } from "#model/evaluation.js";
import { CLASS_NAMES } from "#model/labels.js";
import { computeClassificationMetrics } from "#model/metrics.js";
import { loadSignalModel } from "#model/runtime.js";
import { readCandleFolder } from "./candle-csv.js";
import { LABEL_DEFINITION_TEXT, TRAINING_CONFIG, toIso, toUnix } from "./config.js";
import { evaluateOnCandles, FEATURE_ENGINE } from "./evaluate-candles.js";
import { renderModelCardMarkdown } from "./model-card-markdown.js";
import { checkTrainingPython } from "./python-check.js";
import { formatMetrics } from "./report.js";

const SPLIT_TRAIN = 0;
const SPLIT_SELECTION = 1;
const SPLIT_TEST = 2;
const SPLIT_PURGED = 255;

export interface TrainingOptions {
  candleDir: string;
  modelsDir: string;
  cacheDir: string;
  parityFixture: string;
  python: string;
  grid: "full" | "quick";
  /** skip the Python step and rebuild the card from the last run's ONNX file and training report */
  reuseTrainedModel: boolean;
  threads: number;
  log: (line: string) => void;
}

interface TrainReport {
  xgboostVersion: string;
  params: Record<string, unknown>;
  tried: ModelCard["selection"]["tried"];
  rounds: number;
  trees: number;
  onnxSha256: string;
  onnxBytes: number;
  testCheck: { rows: number; logLoss: number; accuracy: number };
  featureImportanceTop: Array<{ feature: string; share: number }>;
}

/**
 * A row may be trained on only if its label (which reads the close of candle t + horizon, known at
 * t + horizon + 1 candle) is known before the next period starts: purge = horizon + 1 candles.
 */
export function assignSplits(starts: Float64Array): { split: Uint8Array; purgeSeconds: number } {
  const { label, granularitySeconds } = TRAINING_CONFIG;
  const purgeSeconds = (label.horizonCandles + 1) * granularitySeconds;
  const selectionStart = toUnix(TRAINING_CONFIG.selectionStart);
  const testStart = toUnix(TRAINING_CONFIG.testStart);
  const testEnd = toUnix(TRAINING_CONFIG.testEnd);
  const split = new Uint8Array(starts.length);
  starts.forEach((t, i) => {
    if (t + purgeSeconds <= selectionStart) split[i] = SPLIT_TRAIN;
    else if (t >= selectionStart && t + purgeSeconds <= testStart) split[i] = SPLIT_SELECTION;
    else if (t >= testStart && t < testEnd) split[i] = SPLIT_TEST;
    else split[i] = SPLIT_PURGED;
  });
  return { split, purgeSeconds };
}

function describePeriod(rows: LabelledRows, keep: (i: number) => boolean, from: number, to: number) {
  const counts = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < rows.rowCount; i++) {
    if (!keep(i)) continue;
    counts[rows.labels[i]]++;
    n++;
  }
  const share = (c: number) => (n === 0 ? 0 : counts[c] / n);
  return {
    from: toIso(from),
    to: toIso(to),
    rows: n,
    classBalance: { DOWN: share(0), HOLD: share(1), UP: share(2) },
  };
}

function runPython(python: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      for (const line of d.toString().split("\n")) if (line.trim()) log(line);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (error) =>
      reject(
        new Error(
          `cannot start ${python} (${error.message}); training needs Debian's python3-xgboost and python3-onnx`,
        ),
      ),
    );
    child.on("close", (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`${python} ${args[0]} exited with ${code}:\n${stderr.slice(-4000)}`)),
    );
  });
}

async function trainInPython(options: TrainingOptions, onnxPath: string, reportPath: string): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const t0 = Date.now();
  await mkdir(dirname(options.parityFixture), { recursive: true });
  await runPython(
    options.python,
    [
      join(here, "train.py"),
      "--cache",
      options.cacheDir,
      "--onnx",
      onnxPath,
      "--parity",
      options.parityFixture,
      "--report",
      reportPath,
      "--grid",
      options.grid,
      "--threads",
      String(options.threads),
      "--model-name",
      TRAINING_CONFIG.modelName,
    ],
    options.log,
  );
  options.log(`python training finished in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

export async function runTraining(options: TrainingOptions): Promise<ModelCard> {
  const { log } = options;
  const onnxPath = resolve(options.modelsDir, `${TRAINING_CONFIG.modelName}.onnx`);
  const cardPath = resolve(options.modelsDir, `${TRAINING_CONFIG.modelName}.card.json`);
  const markdownPath = resolve(options.modelsDir, "MODEL_CARD.md");
  const label = {
    horizonCandles: TRAINING_CONFIG.label.horizonCandles,
    granularitySeconds: TRAINING_CONFIG.label.granularitySeconds,
    upReturn: TRAINING_CONFIG.label.upReturn,
    downReturn: TRAINING_CONFIG.label.downReturn,
  };

  // a Python that cannot train is found before the feature export, not after it
  if (!options.reuseTrainedModel) checkTrainingPython(options.python);
  const t0 = Date.now();
  const series = await readCandleFolder(options.candleDir, TRAINING_CONFIG.granularity);
  const rows = buildLabelledRows(series, label, {}, FEATURE_ENGINE);
  const { split, purgeSeconds } = assignSplits(rows.starts);
  log(
    `features: ${rows.rowCount} labelled rows x ${rows.featureCount} from ${series.length} symbols in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  await mkdir(options.cacheDir, { recursive: true });
  const header = {
    rows: rows.rowCount,
    featureCount: rows.featureCount,
    featureNames: FEATURE_NAMES,
    classNames: CLASS_NAMES,
    files: { features: "features.f32", labels: "labels.i8", split: "split.u8" },
    splitCodes: { train: SPLIT_TRAIN, selection: SPLIT_SELECTION, test: SPLIT_TEST, purged: SPLIT_PURGED },
  };
  await writeFile(join(options.cacheDir, "features.f32"), new Uint8Array(rows.features.buffer));
  await writeFile(join(options.cacheDir, "labels.i8"), new Uint8Array(rows.labels.buffer));
  await writeFile(join(options.cacheDir, "split.u8"), split);
  await writeFile(join(options.cacheDir, "header.json"), JSON.stringify(header));

  const reportPath = join(options.cacheDir, "train-report.json");
  if (options.reuseTrainedModel) {
    log(`reusing ${onnxPath} and ${reportPath} from the last training run`);
  } else {
    await trainInPython(options, onnxPath, reportPath);
  }
  const report = JSON.parse(await readFile(reportPath, "utf8")) as TrainReport;

  const model = await loadSignalModel(onnxPath);
  if (model.sha256 !== report.onnxSha256) {
    throw new Error(`the ONNX file changed after training (sha256 ${model.sha256} vs ${report.onnxSha256})`);
  }
  const testStart = toUnix(TRAINING_CONFIG.testStart);
  const testEnd = toUnix(TRAINING_CONFIG.testEnd);
  const evaluation = await evaluateOnCandles({
    model,
    candleDir: options.candleDir,
    granularity: TRAINING_CONFIG.granularity,
    label,
    window: { from: testStart, to: testEnd },
    thresholds: TRAINING_CONFIG.decisionThresholds,
  });
  await model.release();
  const metrics = evaluation.metrics;
  const drift = Math.abs(metrics.logLoss - report.testCheck.logLoss);
  log(
    `validation (ONNX via onnxruntime-node): log loss ${metrics.logLoss.toFixed(6)}, XGBoost itself ${report.testCheck.logLoss.toFixed(6)}`,
  );
  if (metrics.rows !== report.testCheck.rows || drift > 1e-4) {
    throw new Error(
      `ONNX and XGBoost disagree on the test period: rows ${metrics.rows} vs ${report.testCheck.rows}, log loss differs by ${drift}`,
    );
  }

  const selectionStart = toUnix(TRAINING_CONFIG.selectionStart);
  const finalFitBalance = describePeriod(
    rows,
    (i) => split[i] <= SPLIT_SELECTION,
    0,
    testStart - purgeSeconds,
  ).classBalance;
  const testLabels = rows.labels.filter((_, i) => split[i] === SPLIT_TEST);
  const prior = [finalFitBalance.DOWN, finalFitBalance.HOLD, finalFitBalance.UP];
  const baseline = computeClassificationMetrics(
    Float32Array.from({ length: testLabels.length * 3 }, (_, i) => prior[i % 3]),
    testLabels,
    testLabels.length,
    TRAINING_CONFIG.decisionThresholds,
  );
  const firstStart = rows.starts.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const bytes = (await stat(onnxPath)).size;
  const trainedAt = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const card: ModelCard = {
    schemaVersion: 1,
    name: TRAINING_CONFIG.modelName,
    version: `${trainedAt.slice(0, 10).replaceAll("-", "")}-${report.onnxSha256.slice(0, 12)}`,
    trainedAt,
    model: {
      file: basename(onnxPath),
      sha256: report.onnxSha256,
      bytes,
      format: "ONNX (ai.onnx.ml TreeEnsembleClassifier, post_transform SOFTMAX), input float32[N, features]",
      inputName: "features",
      outputNames: { label: "label", probabilities: "probabilities" },
      trainer: `XGBoost ${report.xgboostVersion} multi:softprob, converted by models/training/xgb_to_onnx.py`,
      params: report.params,
      rounds: report.rounds,
      trees: report.trees,
      maxDepth: Number(report.params.max_depth),
    },
    classes: [...CLASS_NAMES],
    features: { count: FEATURE_COUNT, names: [...FEATURE_NAMES] },
    data: {
      source: `${options.candleDir} (Binance spot USDT pairs, 1h candles)`,
      granularity: TRAINING_CONFIG.granularity,
      symbols: rows.symbols,
      warmupCandles: WARMUP_CANDLES,
    },
    label: { ...label, definition: LABEL_DEFINITION_TEXT, costBasis: { ...TRAINING_CONFIG.label.costBasis } },
    split: {
      description:
        "time-ordered: train [first row, selection start - purge), selection [selection start, test start - purge) scores every (depth, rounds) tried; the final model is refit on train + selection with the chosen settings and reported on the validation period, which it never saw",
      purgeCandles: purgeSeconds / TRAINING_CONFIG.granularitySeconds,
      train: describePeriod(rows, (i) => split[i] === SPLIT_TRAIN, firstStart, selectionStart - purgeSeconds),
      selection: describePeriod(
        rows,
        (i) => split[i] === SPLIT_SELECTION,
        selectionStart,
        testStart - purgeSeconds,
      ),
      finalFit: describePeriod(
        rows,
        (i) => split[i] <= SPLIT_SELECTION,
        firstStart,
        testStart - purgeSeconds,
      ),
      validation: describePeriod(rows, (i) => split[i] === SPLIT_TEST, testStart, testEnd),
    },
    selection: {
      criterion:
        "lowest multi-class log loss on the selection period; rounds = best round before early stopping",
      tried: report.tried,
    },
    decisionThresholds: { ...TRAINING_CONFIG.decisionThresholds },
    validation: metrics,
    validationBaseline: {
      description: "constant prediction of the final-fit class balance (no features)",
      logLoss: baseline.logLoss,
      accuracy: baseline.accuracy,
    },
    featureImportanceTop: report.featureImportanceTop,
  };
  ModelCardSchema.parse(card);
  await writeFile(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  await writeFile(markdownPath, renderModelCardMarkdown(card));
  log(formatMetrics(metrics));
  log(`wrote ${onnxPath} (${bytes} bytes), ${cardPath}, ${markdownPath}, ${options.parityFixture}`);
  return card;
}
