import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_COUNT } from "#features/index.js";
import { loadSignalModel, ModelLoadError } from "#model/runtime.js";

const MODEL = "models/signal-model.onnx";
const CARD = "models/signal-model.card.json";
const FIXTURES = "test/fixtures/model";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "signal-model-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(modelPath: string, cardPath?: string): Promise<ModelLoadError> {
  const error = await loadSignalModel(modelPath, cardPath).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

describe("loadSignalModel", () => {
  it("loads the shipped model with its card and scores a batch", async () => {
    const model = await loadSignalModel(MODEL, CARD);
    expect(model.featureCount).toBe(FEATURE_COUNT);
    expect(model.name).toBe("signal-model");
    expect(model.version).toBe(model.card?.version);
    expect(model.version).toContain(model.sha256.slice(0, 12));
    const probs = await model.predict(new Float32Array(3 * FEATURE_COUNT).fill(Number.NaN), 3);
    expect(probs).toHaveLength(9);
    for (let r = 0; r < 3; r++) expect(probs[3 * r] + probs[3 * r + 1] + probs[3 * r + 2]).toBeCloseTo(1, 5);
    await expect(model.predict(new Float32Array(FEATURE_COUNT - 1), 1)).rejects.toThrow(
      /expected rowCount x 51/,
    );
    expect(await model.predict(new Float32Array(0), 0)).toHaveLength(0);
    await model.release();
  });

  it("fails when the file is missing", async () => {
    const error = await loadError(join(dir, "nope.onnx"));
    expect(error.message).toContain("nope.onnx");
    expect(error.message).toContain("does not exist");
  });

  it("fails when the file is not an ONNX model", async () => {
    const path = join(dir, "corrupt.onnx");
    await writeFile(path, randomBytes(4096));
    expect((await loadError(path)).message).toMatch(/not a loadable ONNX model/);
  });

  it("fails when the file is a truncated copy of the real model", async () => {
    const path = join(dir, "truncated.onnx");
    const bytes = await readFile(MODEL);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect((await loadError(path)).message).toMatch(/not a loadable ONNX model/);
  });

  it("fails when the model's input width is not FEATURE_COUNT", async () => {
    const error = await loadError(join(FIXTURES, "wrong-width.onnx"));
    expect(error.message).toContain("float32[N, 5]");
    expect(error.message).toContain(`float32[N, ${FEATURE_COUNT}]`);
  });

  it("fails when the model does not output 3 class probabilities", async () => {
    expect((await loadError(join(FIXTURES, "two-class.onnx"))).message).toMatch(
      /float32\[N, 2\].*expected float32\[N, 3\]/,
    );
  });

  it("fails when the card belongs to another model file", async () => {
    const card = JSON.parse(await readFile(CARD, "utf8"));
    card.model.sha256 = "0".repeat(64);
    const path = join(dir, "other.card.json");
    await writeFile(path, JSON.stringify(card));
    expect((await loadError(MODEL, path)).message).toMatch(/describes ONNX sha256 000000000000/);
  });

  it("fails when the card's feature order differs from the feature engine's", async () => {
    const card = JSON.parse(await readFile(CARD, "utf8"));
    [card.features.names[0], card.features.names[1]] = [card.features.names[1], card.features.names[0]];
    const path = join(dir, "swapped.card.json");
    await writeFile(path, JSON.stringify(card));
    expect((await loadError(MODEL, path)).message).toMatch(/expects feature 0 to be/);
  });

  it("fails when the card is not valid JSON or not a card", async () => {
    const broken = join(dir, "broken.card.json");
    await writeFile(broken, "{ not json");
    expect((await loadError(MODEL, broken)).message).toMatch(/not valid JSON/);
    const wrong = join(dir, "wrong.card.json");
    await writeFile(wrong, JSON.stringify({ schemaVersion: 1, name: "x" }));
    expect((await loadError(MODEL, wrong)).message).toMatch(/does not match the card schema/);
  });
});
