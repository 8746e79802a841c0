import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { FEATURE_COUNT, FEATURE_NAMES } from "#features/index.js";
import { type ModelCard, ModelCardSchema } from "./card.js";
import { CLASS_NAMES } from "./labels.js";

/** The model could not be loaded or does not fit the feature engine; there is no fallback model. */
export class ModelLoadError extends Error {
  override readonly name = "ModelLoadError";
}

export interface SignalModel {
  readonly name: string;
  readonly version: string;
  readonly featureCount: number;
  /** sha256 of the ONNX file that was loaded */
  readonly sha256: string;
  /** the parsed model card when one was given */
  readonly card: ModelCard | undefined;
  /** row-major rowCount x featureCount float32 in, row-major rowCount x 3 probabilities [down, hold, up] out */
  predict(rows: Float32Array, rowCount: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface LoadSignalModelOptions {
  /** threads for one inference; 1 suits a Lambda with one or two vCPUs */
  intraOpNumThreads?: number;
  /** defaults to the feature engine's FEATURE_COUNT; only tests override it */
  expectedFeatureCount?: number;
}

export const CLASS_COUNT = CLASS_NAMES.length;
/** The model output read for scores: rows x CLASS_COUNT class probabilities. */
export const PROBABILITIES_OUTPUT = "probabilities";

/** The onnxruntime session options every signal-model session uses (also the inference thread's). */
export function signalModelSessionOptions(intraOpNumThreads: number): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  };
}

function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The sha256 of a model file, the model's identity (SignalModel.sha256, the prediction cache key),
 * without loading it; a missing or unreadable file fails as loadSignalModel does.
 */
export async function signalModelSha256(modelPath: string): Promise<string> {
  return sha256Of(await readModelBytes(modelPath));
}

async function readModelBytes(modelPath: string): Promise<Uint8Array> {
  try {
    return await readFile(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "the file does not exist" : `it cannot be read (${code ?? String(error)})`;
    throw new ModelLoadError(
      `Signal model ${modelPath} cannot be loaded: ${reason}. Point the model path at models/signal-model.onnx or run \`npm run train\` to build it.`,
    );
  }
}

async function readCard(cardPath: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(cardPath, "utf8");
  } catch (error) {
    throw new ModelLoadError(
      `Model card ${cardPath} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). It ships next to the model as models/signal-model.card.json.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(`Model card ${cardPath} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ModelCardSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new ModelLoadError(`Model card ${cardPath} does not match the card schema: ${issues}`);
  }
  return parsed.data;
}

function checkCardAgainstModel(
  card: ModelCard,
  cardPath: string,
  sha256: string,
  featureCount: number,
): void {
  if (card.model.sha256 !== sha256) {
    throw new ModelLoadError(
      `Model card ${cardPath} describes ONNX sha256 ${card.model.sha256.slice(0, 12)}… but the loaded file is ${sha256.slice(0, 12)}…; ship the card that was written with this model (npm run train writes both).`,
    );
  }
  if (card.features.count !== featureCount || card.features.names.length !== featureCount) {
    throw new ModelLoadError(
      `Model card ${cardPath} lists ${card.features.count} features but the feature engine computes ${featureCount}; retrain the model.`,
    );
  }
  if (featureCount === FEATURE_COUNT) {
    const drift = card.features.names.findIndex((n, i) => n !== FEATURE_NAMES[i]);
    if (drift >= 0) {
      throw new ModelLoadError(
        `Model card ${cardPath} expects feature ${drift} to be "${card.features.names[drift]}" but the feature engine computes "${FEATURE_NAMES[drift]}" there; the model was trained on a different feature order, retrain it.`,
      );
    }
  }
}

function describeShape(meta: InferenceSession.ValueMetadata | undefined): string {
  if (!meta) return "absent";
  if (!meta.isTensor) return "not a tensor";
  return `${meta.type}[${meta.shape.join(", ")}]`;
}

/**
 * Loads the ONNX signal model once; reuse the returned model for every batch.
 * Fails with ModelLoadError, never with a stand-in model, when the file is missing or corrupt, its
 * input is not float32 [N, FEATURE_COUNT], its output is not 3 class probabilities, or the card
 * (when given) belongs to another file or another feature order.
 */
export async function loadSignalModel(
  modelPath: string,
  cardPath?: string,
  options: LoadSignalModelOptions = {},
): Promise<SignalModel> {
  const featureCount = options.expectedFeatureCount ?? FEATURE_COUNT;
  const bytes = await readModelBytes(modelPath);
  const sha256 = sha256Of(bytes);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, signalModelSessionOptions(options.intraOpNumThreads ?? 1));
  } catch (error) {
    throw new ModelLoadError(
      `Signal model ${modelPath} (${bytes.length} bytes) is not a loadable ONNX model: ${(error as Error).message}`,
    );
  }
  const fail = async (reason: string): Promise<never> => {
    await session.release();
    throw new ModelLoadError(`Signal model ${modelPath}: ${reason}`);
  };

  if (session.inputNames.length !== 1) {
    await fail(
      `expected exactly one input, found ${session.inputNames.length} (${session.inputNames.join(", ")})`,
    );
  }
  const inputName = session.inputNames[0];
  const input = session.inputMetadata[0];
  if (
    !input?.isTensor ||
    input.type !== "float32" ||
    input.shape.length !== 2 ||
    input.shape[1] !== featureCount
  ) {
    await fail(
      `input "${inputName}" is ${describeShape(input)}; the feature engine produces float32[N, ${featureCount}]. The model was trained on other features; retrain it.`,
    );
  }
  const probIndex = session.outputNames.indexOf(PROBABILITIES_OUTPUT);
  const probMeta = session.outputMetadata[probIndex];
  if (
    probIndex < 0 ||
    !probMeta?.isTensor ||
    probMeta.type !== "float32" ||
    probMeta.shape[1] !== CLASS_COUNT
  ) {
    await fail(
      `output "${PROBABILITIES_OUTPUT}" is ${describeShape(probMeta)} (outputs: ${session.outputNames.join(", ")}); expected float32[N, ${CLASS_COUNT}] probabilities for ${CLASS_NAMES.join("/")}.`,
    );
  }

  let card: ModelCard | undefined;
  if (cardPath !== undefined) {
    try {
      card = await readCard(cardPath);
      checkCardAgainstModel(card, cardPath, sha256, featureCount);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  const predict = async (rows: Float32Array, rowCount: number): Promise<Float32Array> => {
    if (!Number.isInteger(rowCount) || rowCount < 0 || rows.length !== rowCount * featureCount) {
      throw new RangeError(
        `predict: got ${rows.length} values for ${rowCount} rows; expected rowCount x ${featureCount} (row-major features)`,
      );
    }
    if (rowCount === 0) return new Float32Array(0);
    const result = await session.run({ [inputName]: new Tensor("float32", rows, [rowCount, featureCount]) }, [
      PROBABILITIES_OUTPUT,
    ]);
    const out = result[PROBABILITIES_OUTPUT];
    if (!(out.data instanceof Float32Array) || out.data.length !== rowCount * CLASS_COUNT) {
      throw new Error(
        `Signal model ${modelPath} returned ${out.data.length} probabilities for ${rowCount} rows; expected ${rowCount * CLASS_COUNT}`,
      );
    }
    return out.data;
  };

  const probe = await predict(new Float32Array(featureCount), 1).catch((error: Error) =>
    fail(`a one-row test inference failed: ${error.message}`),
  );
  const probeSum = probe[0] + probe[1] + probe[2];
  if (!(Math.abs(probeSum - 1) < 1e-4)) {
    await fail(
      `a one-row test inference returned [${Array.from(probe).join(", ")}], which are not probabilities`,
    );
  }

  return {
    name: card?.name ?? (modelPath.split("/").pop() ?? modelPath).replace(/\.onnx$/, ""),
    version: card?.version ?? `sha256-${sha256.slice(0, 12)}`,
    featureCount,
    sha256,
    card,
    predict,
    release: () => session.release(),
  };
}
