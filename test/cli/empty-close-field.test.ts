/**
 * A candle file with an empty close field is refused with its file:line, every time. It once made
 * the backtest abort natively (`terminate called after throwing an instance of 'Napi::Error'`,
 * exit 134) in about a third of the runs: the parse error ended the process while the inference
 * worker was inside an onnxruntime call. The race only shows when the process ends, so each try is
 * its own backtest process, on a two-file folder so that each takes about a second.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "#test/support/paths.js";
import { type CommandRun, runCli, STACK_LINE } from "./support/run-command.js";

const TRIES = 50;
const PARALLEL = 3;
const dir = mkdtempSync(join(tmpdir(), "empty-close-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a candle file with an empty close field", () => {
  it(`is refused with its file:line in all of ${TRIES} backtest runs, never a native abort`, async () => {
    copyFileSync(join(REPO_ROOT, "data/replay/ADA-USDT_1h.csv"), join(dir, "ADA-USDT_1h.csv"));
    const lines = readFileSync(join(REPO_ROOT, "data/replay/ATOM-USDT_1h.csv"), "utf8").split("\n");
    const cells = lines[600]!.split(",");
    cells[4] = ""; // the close of line 601
    lines[600] = cells.join(",");
    const bad = join(dir, "ATOM-USDT_1h.csv");
    writeFileSync(bad, lines.join("\n"));
    const expected = `npm run backtest: ${bad}:601: field close is not a number\n`;

    const runs: CommandRun[] = [];
    let next = 0;
    const worker = async () => {
      while (next < TRIES) {
        next++;
        runs.push(await runCli("npm run backtest", ["--candles", dir, "--no-cache"]));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    expect(runs).toHaveLength(TRIES);
    const outcomes = runs.map(
      (r) => `${r.code ?? r.signal} ${r.stderr.includes("Napi::Error") ? "Napi" : ""}`,
    );
    expect(
      outcomes.filter((o) => o !== "2 "),
      outcomes.join(", "),
    ).toEqual([]);
    for (const run of runs) {
      expect(
        run.stderr
          .split("\n")
          .filter((l) => l.startsWith("npm run backtest"))
          .join("\n") + "\n",
      ).toBe(expected);
      expect(run.stderr).not.toMatch(STACK_LINE);
    }
  }, 600_000);
});
