import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SLICE = "test/fixtures/model/candles";
const exec = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "evaluate-window-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** npm run evaluate -- <args> on the March 2024 slice; its output, error output and exit code. */
async function evaluate(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [
        "node_modules/tsx/dist/cli.mjs",
        "bin/evaluate.ts",
        "--model",
        "models/signal-model.onnx",
        "--candles",
        SLICE,
        ...args,
      ],
      { timeout: 60_000 },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("evaluate's window (the model card's split)", () => {
  it("starts by default at the first candle the model has not seen, out of sample", async () => {
    const out = join(dir, "default.json");
    const { stdout, code } = await evaluate("--json", out);
    expect(code).toBe(0);
    expect(stdout).not.toContain("IN-SAMPLE");
    expect(stdout).toContain(
      "window: rows opened in [2024-01-01T00:00:00.000Z, the end of the data) (default: the first candle the model has not seen); out of sample",
    );
    const written = JSON.parse(await readFile(out, "utf8"));
    expect(written.window).toEqual({
      from: null,
      to: null,
      effectiveFrom: "2024-01-01T00:00:00.000Z",
      fromChosen: "after the model's fitted data",
      firstUnseen: "2024-01-01T00:00:00.000Z",
      inSample: null,
    });
  });

  it("marks a window that overlaps the fitted data IN-SAMPLE, in the text and the JSON", async () => {
    // the shipped card, saying the model was fitted until the slice's middle
    const card = JSON.parse(await readFile("models/signal-model.card.json", "utf8"));
    card.split.finalFit.to = "2024-03-10T00:00:00Z";
    const cardPath = join(dir, "fitted-in-march.card.json");
    await writeFile(cardPath, JSON.stringify(card));
    const out = join(dir, "in-sample.json");
    const { stdout, code } = await evaluate(
      "--card",
      cardPath,
      "--from",
      "2024-03-09T12:00:00Z",
      "--to",
      "2024-03-11T06:00:00Z",
      "--json",
      out,
    );
    expect(code).toBe(0);
    const written = JSON.parse(await readFile(out, "utf8"));
    const warning = written.window.inSample;
    // rows 03-09 12:00 .. 03-11 05:00; the model saw up to 03-10 00:00 + 13 purged candles
    expect(warning.from).toBe("2024-03-09T12:00:00.000Z");
    expect(warning.to).toBe("2024-03-10T13:00:00.000Z");
    expect(warning.share).toBeCloseTo(25 / 42, 12);
    expect(warning.message).toMatch(
      /^IN-SAMPLE: 2024-03-09T12:00:00\.000Z \.\. 2024-03-10T13:00:00\.000Z, 59\.5% of the window/,
    );
    expect(stdout.split("\n")[0]).toBe("!".repeat(100));
    expect(stdout).toContain("!! IN-SAMPLE: 2024-03-09T12:00:00.000Z");
    expect(stdout).toContain("(--from); IN-SAMPLE (59.5% of the rows' span)");
  });

  it("refuses a reversed window and an empty one, saying what was given", async () => {
    const reversed = await evaluate("--from", "2024-03-11", "--to", "2024-03-10");
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain(
      "npm run evaluate: --from 2024-03-11T00:00:00.000Z is not before --to 2024-03-10T00:00:00.000Z: the window [from, to) is reversed.",
    );
    const empty = await evaluate("--from", "2025-01-01");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("npm run evaluate: no labelled rows in");
    expect(empty.stderr).toContain("The window was [2025-01-01T00:00:00.000Z, the end of the data)");
  });
});
