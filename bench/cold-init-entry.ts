/**
 * What a cold signal-generator does before it can score: import onnxruntime-node and the model
 * runtime, then load and probe the model. The bench runs this in a fresh process (through tsx, and
 * bundled by esbuild for plain node as on Lambda). Paths come from BENCH_MODEL_PATH / BENCH_CARD_PATH.
 */
import { loadSignalModel } from "#model/runtime.js";

const importedMs = performance.now();
const modelPath = process.env.BENCH_MODEL_PATH;
const cardPath = process.env.BENCH_CARD_PATH;
if (!modelPath || !cardPath) {
  throw new Error("cold-init-entry: set BENCH_MODEL_PATH and BENCH_CARD_PATH to the model and its card");
}
const model = await loadSignalModel(modelPath, cardPath);

export const coldInit = { importedMs, modelVersion: model.version };
