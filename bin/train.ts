/**
 * npm run train [-- --candles <dir>] [--quick] [--threads N] [--python /usr/bin/python3] [--reuse-model]
 * (--reuse-model skips Python and rebuilds the card from the last run's ONNX file and report)
 * Exports features with the TypeScript engine, trains XGBoost offline in Python, writes
 * models/signal-model.onnx, the model card and the parity fixture. See models/MODEL_CARD.md.
 */
import { cpus } from "node:os";
import { COMMON_HELP, runCommand, UsageError } from "#local/cli.js";
import { TRAINING_PYTHON_PACKAGES } from "#training/python-check.js";

const usage = `usage: npm run train -- [--candles <dir>] [--quick] [--threads N] [--python /usr/bin/python3] [--reuse-model]
               [--models models] [--cache .cache/training] [--parity test/fixtures/model/parity.json]
Exports the features of every *_1h.csv in --candles (default ../shared/data/candles) with the TypeScript
engine, trains XGBoost in Python, and writes models/signal-model.onnx, its card and the parity fixture.
  --quick         one small configuration, to check the pipeline end to end
  --reuse-model   skip Python: rebuild the card from the last run's ONNX file and report
  --python FILE   the interpreter; it needs ${Object.keys(TRAINING_PYTHON_PACKAGES).join(", ")} (Debian: ${Object.values(TRAINING_PYTHON_PACKAGES).join(" ")})
  --threads N     XGBoost threads (default: the number of cores)
${COMMON_HELP}
See models/training/README.md.`;

await runCommand(
  {
    name: "npm run train",
    usage,
    options: {
      candles: { type: "string", default: "../shared/data/candles" },
      models: { type: "string", default: "models" },
      cache: { type: "string", default: ".cache/training" },
      parity: { type: "string", default: "test/fixtures/model/parity.json" },
      python: { type: "string", default: "/usr/bin/python3" },
      threads: { type: "string", default: String(cpus().length) },
      quick: { type: "boolean", default: false },
      "reuse-model": { type: "boolean", default: false },
    },
  },
  async ({ values }) => {
    const threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1)
      throw new UsageError(`--threads ${values.threads} is not a whole number of threads >= 1 (such as 2)`);
    const started = Date.now();
    // imported here, so --help and a wrong flag answer at once
    const { runTraining } = await import("#training/pipeline.js");
    const card = await runTraining({
      candleDir: values.candles,
      modelsDir: values.models,
      cacheDir: values.cache,
      parityFixture: values.parity,
      python: values.python,
      grid: values.quick ? "quick" : "full",
      reuseTrainedModel: values["reuse-model"],
      threads,
      log: (line) => console.log(line),
    });
    console.log(`\n${card.name} ${card.version} trained in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  },
);
