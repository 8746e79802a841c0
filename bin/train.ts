/**
 * npm run train [-- --candles <dir>] [--quick] [--threads N] [--python /usr/bin/python3] [--reuse-model]
 * (--reuse-model skips Python and rebuilds the card from the last run's ONNX file and report)
 * Exports features with the TypeScript engine, trains XGBoost offline in Python, writes
 * models/signal-model.onnx, the model card and the parity fixture. See models/MODEL_CARD.md.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { runTraining } from "#training/pipeline.js";

const { values } = parseArgs({
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
});

const started = Date.now();
try {
  const card = await runTraining({
    candleDir: values.candles,
    modelsDir: values.models,
    cacheDir: values.cache,
    parityFixture: values.parity,
    python: values.python,
    grid: values.quick ? "quick" : "full",
    reuseTrainedModel: values["reuse-model"],
    threads: Number(values.threads),
    log: (line) => console.log(line),
  });
  console.log(`\n${card.name} ${card.version} trained in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  console.error(`training failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
